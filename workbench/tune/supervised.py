"""Supervised fine-tuning on a task set: every input checked before training starts, then the
shared LoRA loop with the loss on the completion only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data import DataError, Task, fingerprint_rows, load_task
from ..models import local_model_dir
from .data import LeakageReport, check_lengths, examples, leakage, load_training_rows, split
from .settings import TrainSettings, trainable
from .train import Training, run

# Below this many training rows a LoRA run learns the rows, not the task.
MIN_TRAINING_ROWS = 20


@dataclass
class Prepared:
    """A checked fine-tuning set-up: training, validation and held-out rows, and the leakage check."""

    model_id: str
    task: Task
    train_file: str
    train: list[dict[str, Any]]
    validation: list[dict[str, Any]]
    leakage: LeakageReport
    longest_tokens: int

    @property
    def held_out(self) -> list[dict[str, Any]]:
        return self.task.cases

    def fingerprints(self) -> dict[str, str]:
        """sha256 of the task's held-out rows and of the training and validation rows used."""
        return {
            "held_out": self.task.fingerprint,
            "train": fingerprint_rows(self.train)[1],
            "validation": fingerprint_rows(self.validation)[1],
        }

    def sizes(self) -> dict[str, int]:
        return {
            "train": len(self.train),
            "validation": len(self.validation),
            "held_out": len(self.held_out),
        }


def prepare(
    model_id: str,
    task: str,
    train_file: str | Path,
    *,
    n_train: int,
    n_validation: int,
    max_length: int,
    seed: int = 0,
) -> Prepared:
    """Load and check everything a supervised run needs, before any training.

    Errors name the parameter, file or row: a model that cannot be trained here, a task without
    references, too few training rows, held-out rows copied into training, a `max_length`
    shorter than a training row.
    """
    trainable(model_id)
    spec_task = load_task(task)
    missing = [str(c["id"]) for c in spec_task.cases if not str(c.get("reference") or "").strip()]
    if missing:
        raise DataError(
            f"{spec_task.path}: task {task!r} has no reference for {len(missing)} row(s) "
            f"({', '.join(missing[:5])}); a tuned model is scored against references"
        )
    rows = load_training_rows(train_file, MIN_TRAINING_ROWS)
    report = leakage(rows, spec_task.cases)
    if not report.ok:
        pairs = ", ".join(
            f"{x.eval_id}~{x.train_id} ({x.similarity:.2f})" for x in report.leaks[:5]
        )
        raise DataError(
            f"{train_file}: {report.summary()} Held-out~training pairs: {pairs}. Remove them "
            "from the training file: a tuned model would be scored on rows it learnt."
        )
    train, validation = split(rows, n_train, n_validation, seed)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(local_model_dir(model_id))
    used = train + validation
    longest = check_lengths(
        tok, examples(spec_task, used), [str(r["id"]) for r in used], max_length
    )
    return Prepared(model_id, spec_task, str(train_file), train, validation, report, longest)


def fine_tune(
    prepared: Prepared, cfg: TrainSettings, retrain: bool = False, progress: bool | None = None
) -> Training:
    """Train a LoRA adapter on the prepared rows (loss on the reference, the completion)."""
    return run(
        prepared.model_id,
        examples(prepared.task, prepared.train),
        examples(prepared.task, prepared.validation),
        cfg,
        kind="sft",
        fingerprints=prepared.fingerprints(),
        retrain=retrain,
        progress=progress,
    )
