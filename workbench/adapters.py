"""Trained adapters as versioned artifacts: content-addressed folders under `config.adapters_dir()`.

An adapter is published under `<task>-lora-<sha256[:12]>` (the digest of its weight file), with
the files `peft` reads (`adapter_config.json`, `adapter_model.safetensors`), a model card
(`README.md`) and `workbench.json` (what it was trained from and how). The catalog names it
`<base>+<adapter>`; `merged_folder` merges it into its base once, for generation and serving.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import config
from .errors import CatalogError
from .io import build_folder_once, sha256_file, write_json_atomic

SEPARATOR = "+"
WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
CARD = "README.md"
META = "workbench.json"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*-lora-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Adapter:
    """One published adapter; `meta` is its `workbench.json`."""

    name: str
    folder: Path
    meta: dict[str, Any]

    @property
    def sha256(self) -> str:
        return str(self.meta.get("adapter_sha256", ""))

    @property
    def base_model(self) -> str:
        return str(self.meta.get("base_model", ""))

    @property
    def model_id(self) -> str:
        """The catalog id that names this adapter on its base: `<base>+<adapter>`."""
        return f"{self.base_model}{SEPARATOR}{self.name}"


def split_id(model_id: str) -> tuple[str, str | None]:
    """'base+adapter' -> ('base', 'adapter'); a plain id -> (id, None)."""
    base, sep, name = model_id.partition(SEPARATOR)
    return (base, name) if sep else (model_id, None)


def adapter_name(task: str, sha256: str) -> str:
    """The content-addressed name: `<task>-lora-<sha256[:12]>` (task lower-cased, slugged)."""
    slug = re.sub(r"[^a-z0-9_.-]+", "-", task.lower()).strip("-.") or "adapter"
    return f"{slug}-lora-{sha256[:12]}"


def _read(folder: Path) -> Adapter | None:
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not an adapter folder (or one still being written)
    if not (folder / WEIGHTS).is_file() or not isinstance(meta, dict):
        return None
    return Adapter(folder.name, folder, meta)


def list_adapters() -> list[Adapter]:
    """Every published adapter, by name."""
    root = config.adapters_dir()
    if not root.is_dir():
        return []
    found = (_read(p) for p in sorted(root.iterdir()) if _NAME.match(p.name))
    return [a for a in found if a is not None]


def load(name: str) -> Adapter:
    """A published adapter by name; an unknown name lists the known ones."""
    found = _read(config.adapters_dir() / name) if _NAME.match(name) else None
    if found is None:
        known = (
            ", ".join(a.name for a in list_adapters()) or "none yet (train one in 06_fine_tuning)"
        )
        raise CatalogError(
            f"no adapter {name!r} in {config.adapters_dir()}; published adapters: {known}"
        )
    return found


def publish(
    staged: Path, task: str, meta: dict[str, Any], card: Callable[[dict[str, Any]], str]
) -> Adapter:
    """Move a saved adapter folder (`save_pretrained` output) to its content-addressed name,
    with the model card `card(record)` writes from the finished record (name and sha256 set).

    The same weights published twice are one adapter: the second copy is dropped and the first
    kept, so a name always means the same bytes.
    """
    for required in (WEIGHTS, ADAPTER_CONFIG):
        if not (staged / required).is_file():
            raise CatalogError(f"{staged}: {required} is missing; not a saved adapter")
    sha = sha256_file(staged / WEIGHTS)
    name = adapter_name(task, sha)
    meta = {**meta, "name": name, "adapter_sha256": sha}
    write_json_atomic(staged / META, meta)
    (staged / CARD).write_text(card(meta), encoding="utf-8")
    target = config.adapters_dir() / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if _read(target) is None:
        shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(staged, target)
        except OSError:
            if _read(target) is None:  # not a concurrent publish of the same bytes
                raise
    shutil.rmtree(staged, ignore_errors=True)
    return load(name)


def update(name: str, card: str, **fields: Any) -> Adapter:
    """Add fields (e.g. evaluation results) to an adapter's record and rewrite its card."""
    adapter = load(name)
    write_json_atomic(adapter.folder / META, {**adapter.meta, **fields})
    (adapter.folder / CARD).write_text(card, encoding="utf-8")
    return load(name)


def merged_folder(adapter: Adapter, base_folder: Path, store: Path) -> Path:
    """A float32 folder of the base with the adapter merged in (`merge_and_unload`), made once.

    Generation and `transformers serve` then load it like any local model, at the base's speed.
    """
    target = store / f"{base_folder.name}{SEPARATOR}{adapter.name}"
    return build_folder_once(target, META, lambda tmp: _merge(adapter, base_folder, tmp))


def _merge(adapter: Adapter, base_folder: Path, out: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    base = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32)
    with warnings.catch_warnings():
        # peft calls a transformers property that transformers 5 marks deprecated.
        warnings.simplefilter("ignore", FutureWarning)
        merged = PeftModel.from_pretrained(base, adapter.folder).merge_and_unload()
    merged.save_pretrained(out)
    AutoTokenizer.from_pretrained(base_folder).save_pretrained(out)
    base_meta = json.loads((base_folder / META).read_text(encoding="utf-8"))
    base_meta.update(adapter=adapter.name, adapter_sha256=adapter.sha256)
    write_json_atomic(out / META, base_meta)
