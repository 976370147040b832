"""Load, validate and fingerprint project datasets (named `data`, not `datasets`, the HF package)."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from . import config, registry, runs, tracking
from .errors import UnknownName
from .io import DataError, Schema, pointer, read_text, validate

__all__ = ["DataError", "Task", "load_task", "read_jsonl", "read_yaml_mapping"]


def read_jsonl(
    path: str | Path,
    required: tuple[str, ...] = (),
    check: Callable[[dict[str, Any], str], None] | None = None,
) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a bad line raises DataError naming file, line and field.

    `check(row, where)` validates each row further; `where` is "file:line", for its errors.
    """
    p = Path(path)
    rows, seen = [], set()
    # Split on newlines only: the line numbers must be an editor's (str.splitlines also breaks
    # at U+2028 and friends, which may stand inside a JSON string).
    for lineno, line in enumerate(read_text(p, "dataset file").split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{p}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno})"
                + pointer(line, exc.colno)
            ) from None
        if not isinstance(row, dict):
            raise DataError(f"{p}:{lineno}: expected a JSON object, got {type(row).__name__}")
        missing = [k for k in required if row.get(k) in (None, "")]
        if missing:
            raise DataError(f"{p}:{lineno}: missing field(s) {', '.join(missing)}")
        if "id" in row:
            if row["id"] in seen:
                raise DataError(f"{p}:{lineno}: duplicate id {row['id']!r}")
            seen.add(row["id"])
        if check is not None:
            check(row, f"{p}:{lineno}")
        rows.append(row)
    if not rows:
        raise DataError(f"{p}: no rows")
    return rows


def read_yaml_mapping(path: str | Path, what: str = "file") -> dict[str, Any]:
    """A YAML file holding a mapping; errors name the file and, for syntax errors, the line."""
    p = Path(path)
    text = read_text(p, what)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise DataError(f"{p}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataError(f"{p}: expected a mapping, got {type(data).__name__}")
    return data


@dataclass
class Task:
    """A task dataset: instruction, scoring and cases (`datasets/tasks/<name>.yaml` + JSONL)."""

    name: str
    description: str
    instruction: str
    metrics: list[str]
    primary_metric: str
    cases: list[dict[str, Any]]
    input_template: str = "{input}"
    max_tokens: int = 64
    labels: list[str] = field(default_factory=list)
    path: Path | None = None
    fingerprint: str = ""

    def prompt(self, case: dict[str, Any]) -> str:
        return self.input_template.replace("{input}", str(case["input"]))

    def sample(self, n: int, seed: int = 0) -> list[dict[str, Any]]:
        """`n` cases chosen reproducibly by `seed` (all cases when n <= 0 or n >= len)."""
        if n <= 0 or n >= len(self.cases):
            return list(self.cases)
        return random.Random(seed).sample(self.cases, n)


def tasks_dir() -> Path:
    return config.datasets_dir() / "tasks"


def list_tasks() -> list[str]:
    return sorted(p.stem for p in tasks_dir().glob("*.yaml"))


class TaskSpec(Schema):
    """A task's YAML specification under `datasets/tasks/`."""

    name: str = Field(min_length=1)
    instruction: str = Field(min_length=1)
    metrics: list[str] = Field(min_length=1)
    data: str = Field(min_length=1)
    description: str = ""
    primary_metric: str | None = None
    input_template: str = "{input}"
    max_tokens: int = 64
    labels: list[str] = []


def load_task(name: str | Path, track: bool = True) -> Task:
    """Load a task by name (from `datasets/tasks/`) or by the path of its YAML spec."""
    spec_path = (
        Path(name) if str(name).endswith((".yaml", ".yml")) else tasks_dir() / f"{name}.yaml"
    )
    if not spec_path.is_file():
        raise DataError(
            f"task {name!r} not found (no {spec_path}); known tasks: {', '.join(list_tasks())}"
        )
    spec = validate(TaskSpec, read_yaml_mapping(spec_path, "task specification"), str(spec_path))
    metrics = list(spec.metrics)
    for m in metrics:
        try:
            registry.get("metric", m)
        except UnknownName as exc:
            raise DataError(f"{spec_path}: {exc}") from None
    data_path = spec_path.parent / spec.data
    cases = read_jsonl(data_path, required=("id", "input", "reference"))
    fingerprint = tracking.sha256_file(data_path)
    if track:
        tracking.current().log_dataset(data_path, fingerprint)
        tracking.current().log_dataset(spec_path)
    return Task(
        name=spec.name,
        description=spec.description,
        instruction=spec.instruction,
        metrics=metrics,
        primary_metric=spec.primary_metric or metrics[0],
        cases=cases,
        input_template=spec.input_template,
        max_tokens=spec.max_tokens,
        labels=list(spec.labels),
        path=data_path,
        fingerprint=fingerprint,
    )


# ----------------------------------------------------------------------------- versioned sets


def fingerprint_rows(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """(canonical JSONL text, its sha256): the same rows always give the same bytes."""
    text = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_dataset(
    rows: list[dict[str, Any]],
    folder: str | Path,
    name: str,
    *,
    task_spec: dict[str, Any] | None = None,
    datasheet: str = "",
) -> Path:
    """Write `<name>-<fingerprint12>.jsonl` (+ `<name>.yaml` task spec and datasheet) into `folder`.

    With a task spec the set loads as a task (`load_task(folder / f"{name}.yaml")`).
    Returns the JSONL path; its fingerprint is recorded in the current run.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text, digest = fingerprint_rows(rows)
    path = folder / f"{name}-{digest[:12]}.jsonl"
    path.write_text(text, encoding="utf-8")
    if task_spec is not None:
        spec = {**task_spec, "name": name, "data": path.name}
        (folder / f"{name}.yaml").write_text(
            yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    if datasheet:
        (folder / f"{name}.datasheet.md").write_text(datasheet, encoding="utf-8")
    tracking.current().log_dataset(path, digest)
    return path


def load_pandas(path: str | Path):
    """A JSONL dataset as a pandas DataFrame (fingerprint recorded in the run)."""
    import pandas as pd

    rows = read_jsonl(path)
    tracking.current().log_dataset(path)
    return pd.DataFrame(rows)


def load_hf(path: str | Path):
    """A JSONL dataset as a Hugging Face `datasets.Dataset` (offline; fingerprint recorded)."""
    from datasets import load_dataset

    read_jsonl(path)  # clear errors (file:line) before the library sees the file
    tracking.current().log_dataset(path)
    return load_dataset("json", data_files=str(path), split="train")


# The run artifact (a folder) that holds a workflow's versioned data set and its task spec.
DATASET_ARTIFACT = "synthetic"


def save_run_dataset(
    rows: list[dict[str, Any]], name: str, *, task_spec: dict[str, Any], datasheet: str = ""
) -> Path:
    """Write a data set into the current run (artifact `DATASET_ARTIFACT`), ready for `promote`."""
    folder = runs.artifact_dir(DATASET_ARTIFACT)
    return write_dataset(rows, folder, name, task_spec=task_spec, datasheet=datasheet)


# How the row was made and from which row: a noise copy of a flagged row is flagged too, and
# without these two fields it reads as the same row twice.
REVIEW_FIELDS = ("input", "reference", "proposed_label", "review_reason", "strategy", "parent_id")


def review_items(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The rows flagged for review, as the review widget shows them and `promote` finds them
    again: id and the review fields as text, nothing else, so both sides fingerprint alike."""
    return [
        {
            "id": str(r["id"]),
            **{f: "" if r.get(f) is None else str(r.get(f)) for f in REVIEW_FIELDS},
        }
        for r in rows
        if r.get("needs_review")
    ]


def apply_decisions(rows: list[dict[str, Any]], labels_path: str | Path) -> tuple[list, dict]:
    """`rows` with a review's decisions applied: rejected rows dropped, edits written into
    `reference`, reviewed rows no longer flagged; (rows, counts)."""
    from .labels import LabelStore

    items = review_items(rows)
    if not items:
        raise DataError(
            f"{labels_path}: this run flagged no row for review; promote without labels"
        )
    latest = LabelStore(labels_path, items, "decision").latest()
    counts = {"accept": 0, "reject": 0, "edit": 0, "not reviewed": len(items) - len(latest)}
    out = []
    for row in rows:
        decision = latest.get(str(row["id"])) if row.get("needs_review") else None
        if decision is None:
            out.append(row)
            continue
        counts[decision["label"]] += 1
        if decision["label"] == "reject":
            continue
        reviewed = {**row, "needs_review": False}
        reviewed["review"] = {k: decision[k] for k in ("label", "reviewer", "at", "reason")}
        if decision["label"] == "edit":
            reviewed["reference"] = decision["edited"]
        out.append(reviewed)
    return out, counts


def promote(
    run_dir: str | Path, name: str, force: bool = False, labels: str | Path | None = None
) -> list[Path]:
    """Copy the data set saved by a succeeded run into `datasets/tasks/` as task `name`;
    with `labels` (the review widget's file over the run's review queue), rejected rows are
    dropped and edited references written in, and the spec records the decisions' counts."""
    run_dir = Path(run_dir)
    record = runs.read_record(run_dir)
    runs.require_succeeded(record, "nothing promoted")
    folder = runs.artifact_dir(DATASET_ARTIFACT, run_dir)
    specs = sorted(folder.glob("*.yaml"))
    if len(specs) != 1:
        raise DataError(f"{folder}: expected one synthetic task spec, found {len(specs)}")
    spec = read_yaml_mapping(specs[0], "task specification")
    source = specs[0].parent / spec["data"]
    target_dir = tasks_dir()
    target_spec = target_dir / f"{name}.yaml"
    if target_spec.exists() and not force:
        raise DataError(f"{target_spec} already exists; choose another name or pass --force")
    if labels:  # a person's decisions: rejected rows go, edits are written in
        rows, counts = apply_decisions(read_jsonl(source), labels)
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        target_data = target_dir / f"{name}-{digest[:12]}.jsonl"
        target_data.write_text(text, encoding="utf-8")
        reviewed = ", ".join(f"{n} {k}" for k, n in counts.items())
    else:
        digest = tracking.sha256_file(source)
        target_data = target_dir / f"{name}-{digest[:12]}.jsonl"
        shutil.copyfile(source, target_data)
    spec.update(name=name, data=target_data.name)
    spec["description"] = (
        f"{spec.get('description', '')} (promoted from run {record['run_id']}"
        + (f"; review: {reviewed}" if labels else "")
        + ")"
    ).strip()
    target_spec.write_text(
        yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    written = [target_spec, target_data]
    sheet = specs[0].with_name(specs[0].stem + ".datasheet.md")
    if sheet.exists():
        target_sheet = target_dir / f"{name}.datasheet.md"
        shutil.copyfile(sheet, target_sheet)
        written.append(target_sheet)
    return written
