"""Training rows for supervised fine-tuning, and the check that no held-out row leaked into them.

A tuned model is evaluated by the same requests every other notebook sends
(`discovery.build_requests`: the task's instruction as the system message, its input template as
the user turn), so its training examples are built the same way; only the reference, the
completion, carries the loss.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import config, tracking
from ..data import DataError, Task, read_jsonl
from ..embeddings import embed
from ..errors import ParameterError

# Cosine similarity (all-MiniLM-L6-v2) at or above which a held-out input counts as a near copy
# of a training input: stricter than the synthetic-data filters' near-duplicate bar (0.92-0.95).
NEAR_COPY = 0.9


def load_training_rows(name: str | Path, min_rows: int = 1) -> list[dict[str, Any]]:
    """Training rows (`id`, `input`, `reference`) from a JSONL file under `datasets/` (or a path);
    fewer than `min_rows` is an error naming the file."""
    path = Path(name) if Path(name).is_absolute() else config.datasets_dir() / name
    rows = read_jsonl(path, required=("id", "input", "reference"))
    if len(rows) < min_rows:
        raise DataError(f"{path}: {len(rows)} training row(s); at least {min_rows} are needed")
    tracking.current().log_dataset(path)
    return rows


def examples(task: Task, rows: list[dict[str, Any]]) -> list[dict[str, list[dict[str, str]]]]:
    """One prompt/completion conversation per row, as the evaluation will ask it."""
    out = []
    for row in rows:
        prompt = [{"role": "user", "content": task.prompt(row)}]
        if task.instruction:
            prompt.insert(0, {"role": "system", "content": task.instruction})
        completion = [{"role": "assistant", "content": str(row["reference"])}]
        out.append({"prompt": prompt, "completion": completion})
    return out


@dataclass(frozen=True)
class Leak:
    """A held-out row whose input is a copy (similarity 1.0) or a near copy of a training row's."""

    eval_id: str
    train_id: str
    similarity: float
    exact: bool


@dataclass
class LeakageReport:
    """What the check found, and the closest pair even when nothing leaked."""

    leaks: list[Leak] = field(default_factory=list)
    closest: float = 0.0
    threshold: float = NEAR_COPY
    compared: tuple[int, int] = (0, 0)

    @property
    def ok(self) -> bool:
        return not self.leaks

    def summary(self) -> str:
        n_eval, n_train = self.compared
        head = f"{n_eval} held-out rows against {n_train} training rows"
        if self.ok:
            return f"No leakage: {head}; the closest pair has similarity {self.closest:.2f} (threshold {self.threshold})."
        exact = sum(leak.exact for leak in self.leaks)
        return (
            f"Leakage: {len(self.leaks)} of {head} are copies ({exact}) or near copies "
            f"(similarity >= {self.threshold}) of training rows."
        )


def leakage(
    train: list[dict[str, Any]],
    held_out: list[dict[str, Any]],
    threshold: float = NEAR_COPY,
    model: str = "all-minilm-l6-v2",
) -> LeakageReport:
    """Held-out rows whose input equals a training input (after white space and case) or whose
    embedding is at least `threshold` similar to one."""
    report = LeakageReport(threshold=threshold, compared=(len(held_out), len(train)))
    if not train or not held_out:
        return report
    norm = {" ".join(str(r["input"]).split()).lower(): r["id"] for r in train}
    vectors_eval = embed([str(r["input"]) for r in held_out], model)
    vectors_train = embed([str(r["input"]) for r in train], model)
    sims = vectors_eval @ vectors_train.T
    report.closest = float(sims.max())
    for i, row in enumerate(held_out):
        key = " ".join(str(row["input"]).split()).lower()
        j = int(np.argmax(sims[i]))
        if key in norm:
            report.leaks.append(Leak(str(row["id"]), str(norm[key]), 1.0, True))
        elif sims[i, j] >= threshold:
            report.leaks.append(Leak(str(row["id"]), str(train[j]["id"]), float(sims[i, j]), False))
    return report


def split(
    rows: list[dict[str, Any]], n_train: int, n_validation: int, seed: int = 0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Seeded training and validation rows from one training file (validation feeds the eval
    loss and early stopping, so the held-out task rows never steer training).

    `n_train` 0 takes every row the validation leaves.
    """
    if n_validation < 1:
        raise ParameterError(f"parameter 'n_validation' must be at least 1, got {n_validation}")
    if n_validation >= len(rows):
        raise ParameterError(
            f"parameter 'n_validation' ({n_validation}) leaves no training rows of {len(rows)}"
        )
    order = random.Random(seed).sample(rows, len(rows))
    validation, rest = order[:n_validation], order[n_validation:]
    if n_train < 0 or n_train > len(rest):
        raise ParameterError(
            f"parameter 'n_train' must be between 0 (all) and {len(rest)}, got {n_train}"
        )
    return (rest[:n_train] if n_train else rest), validation


def check_lengths(
    tokenizer, conversations: list[dict[str, Any]], ids: list[str], max_length: int
) -> int:
    """The longest prompt + completion in tokens; an error naming the row when it exceeds
    `max_length` (the trainer would cut the completion off and learn nothing from that row)."""
    texts = [
        tokenizer.apply_chat_template(c["prompt"] + c["completion"], tokenize=False)
        for c in conversations
    ]
    lengths = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    longest = max(range(len(lengths)), key=lengths.__getitem__)
    if lengths[longest] > max_length:
        raise ParameterError(
            f"parameter 'max_length' ({max_length}) is shorter than training row "
            f"{ids[longest]!r} ({lengths[longest]} tokens with the chat template); raise it to "
            f"at least {lengths[longest]}"
        )
    return lengths[longest]
