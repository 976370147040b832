"""Publishing a trained adapter with its model card: what it was trained from, how, and how it
scored. The card inherits the base model's licence."""

from __future__ import annotations

import shutil
import time
from typing import Any

from .. import adapters, config
from ..models import get_model, weights_fingerprint
from .settings import TrainSettings
from .train import Training


def _lines(mapping: dict[str, Any]) -> str:
    return "\n".join(f"| `{k}` | {v} |" for k, v in mapping.items())


def card(meta: dict[str, Any]) -> str:
    """The model card (Markdown) of an adapter from its record."""
    evaluation = meta.get("evaluation") or {}
    evals = (
        "\n".join(
            f"- run `{run}`: " + ", ".join(f"{k} = {v}" for k, v in result.items())
            for run, result in evaluation.items()
        )
        or "- not evaluated yet"
    )
    return f"""---
base_model: {meta["base_model_id"]}
library_name: peft
license: {meta["licence"]}
tags: [lora, workbench, {meta["kind"]}]
---

# {meta.get("name", "adapter")}

LoRA adapter for `{meta["base_model"]}` ({meta["base_model_id"]}), trained by the workbench
({meta["kind"]} on `{meta["task"]}`). Use it as the catalog model
`{meta["base_model"]}{adapters.SEPARATOR}{meta.get("name", "")}`.

- Base weights sha256: `{meta["base_weights_sha256"]}`
- Adapter weights sha256: `{meta.get("adapter_sha256", "")}`
- Licence: {meta["licence"]} (inherited from the base model)
- Trained: {meta["created"]}

## Data (sha256)

| data | sha256 |
|---|---|
{_lines(meta["datasets"])}

## Hyperparameters

| parameter | value |
|---|---|
{_lines(meta["settings"])}

## Training

| figure | value |
|---|---|
{_lines(meta["training"])}

## Evaluation

{evals}
"""


def publish(training: Training, task: str, cfg: TrainSettings, datasets: dict[str, str]):
    """Publish the trained adapter under `<task>-lora-<sha12>` with its card; returns the
    `adapters.Adapter`. Publishing the same bytes again keeps the one already there."""
    spec = get_model(training.model_id)
    meta = {
        "base_model": spec.id,
        "base_model_id": spec.model,
        "base_weights_sha256": weights_fingerprint(spec),
        "licence": spec.licence,
        "task": task,
        "kind": training.kind,
        "datasets": datasets,
        "settings": cfg.model_dump(),
        "training": training.figures(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "evaluation": {},
    }
    # Publishing moves the folder; the checkpoint folder keeps its copy for a later reuse.
    staged = config.adapters_dir() / f".staged-{training.key}"
    shutil.rmtree(staged, ignore_errors=True)
    staged.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(training.adapter_dir, staged)
    published = adapters.publish(staged, task, meta, card)
    training.adapter = published.name
    return published


def record_evaluation(name: str, run_id: str, results: dict[str, Any]):
    """Add one run's evaluation results to the adapter's record and card."""
    adapter = adapters.load(name)
    evaluation = {**(adapter.meta.get("evaluation") or {}), run_id: results}
    meta = {**adapter.meta, "evaluation": evaluation}
    return adapters.update(name, card(meta), evaluation=evaluation)
