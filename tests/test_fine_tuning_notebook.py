"""Notebook 06 run as a user runs it, with tiny parameters: the adapter it publishes becomes a
catalog model that `workbench models` lists and notebook 01 accepts; a second run reuses the
training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import run

TINY = (
    "-p",
    "max_steps",
    "2",
    "-p",
    "eval_every",
    "1",
    "-p",
    "n_train",
    "16",
    "-p",
    "n_validation",
    "8",
    "-p",
    "n_held_out",
    "8",
    "-p",
    "forgetting_cases",
    "4",
    "-p",
    "domain_max_steps",
    "1",
    "-p",
    "domain_held_out_docs",
    "2",
)


@pytest.mark.notebook
def test_fine_tuning_notebook_publishes_a_catalog_model_and_records_the_comparison():
    out = run("run", "06_fine_tuning", *TINY)
    assert out.returncode == 0, out.stderr
    folder = Path(out.stdout.strip().splitlines()[-1])
    record = json.loads((folder / "run.json").read_text())
    adapter = record["adapter"]
    assert adapter["name"] == f"hr_intents-lora-{adapter['sha256'][:12]}"
    assert adapter["model_id"] == f"smollm2-135m-instruct+{adapter['name']}"
    assert (
        adapter["base_weights_sha256"]
        == record["models"]["smollm2-135m-instruct"]["weights_sha256"]
    )
    assert set(adapter["datasets"]) == {"held_out", "train", "validation"}
    assert adapter["lora"]["rank"] == 8 and adapter["sizes"]["train"] == 16
    assert record["models"][adapter["model_id"]]["adapter_sha256"] == adapter["sha256"]
    metrics = record["metrics"]
    for name in (
        "base_score",
        "prompted_score",
        "tuned_score",
        "tuned_minus_base",
        "tuned_minus_base_ci_low",
        "tuned_minus_base_ci_high",
    ):
        assert isinstance(metrics[name], float)
    assert metrics["held_out_cases"] == 8
    assert metrics["recommendation"] in ("fine-tune", "prompting is enough", "cannot separate")
    supervised, domain = record["training"]["supervised"], record["training"]["domain"]
    assert supervised["steps"] == 2 and supervised["tokens"] > 0 and not supervised["reused"]
    assert domain["perplexity_before"] > 1 and domain["adapter"].startswith("kb-lora-")
    html = (folder / "report.html").read_text()
    assert "Recommendation:" in html and adapter["name"] in html

    listed = run("models")
    assert listed.returncode == 0 and adapter["model_id"] in listed.stdout
    discovery = run(
        "run",
        "01_model_discovery",
        "-p",
        "models",
        f"[smollm2-135m-instruct, {adapter['model_id']}]",
        "-p",
        "tasks",
        "[hr_intents]",
        "-p",
        "n_cases",
        "4",
    )
    assert discovery.returncode == 0, discovery.stderr
    used = json.loads((Path(discovery.stdout.strip().splitlines()[-1]) / "run.json").read_text())
    assert used["models"][adapter["model_id"]]["adapter_sha256"] == adapter["sha256"]

    again = run("run", "06_fine_tuning", *TINY)
    assert again.returncode == 0, again.stderr
    second = json.loads((Path(again.stdout.strip().splitlines()[-1]) / "run.json").read_text())
    assert (
        second["training"]["supervised"]["reused"]
        and second["adapter"]["sha256"] == adapter["sha256"]
    )
