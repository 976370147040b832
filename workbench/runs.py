"""The run folder, and the only module that knows how one is laid out.

A run of notebook `N` lives in `reports/N/<run_id>/`: `run.json` (the record), `report.html`,
`notebook.ipynb` (executed) and the artifacts its workflow saved by name (`<name>.jsonl`
tables, `<name>.json` specs, `<name>/` folders). It is assembled under the staging name
`reports/N/.<run_id>.partial` and renamed into place when finished, so a half-written run is
never listed. Workflows save what they need to be replayed or compared as artifacts of their
run; replay, regressions and promotion read them back through this module, by name.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import config, tracking
from .errors import RunError

RECORD = "run.json"
REPORT = "report.html"
NOTEBOOK = "notebook.ipynb"
_STAGE_PREFIX, _STAGE_SUFFIX = ".", ".partial"


def new_run_id() -> str:
    """A sortable, unique run id: UTC start time plus six random hex digits."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _root(root: str | Path | None) -> Path:
    return Path(root) if root else config.reports_dir()


# --------------------------------------------------------------------------- lifecycle


def _staging(notebook_stem: str, run_id: str, root: str | Path | None) -> Path:
    return _root(root) / notebook_stem / f"{_STAGE_PREFIX}{run_id}{_STAGE_SUFFIX}"


def stage(notebook_stem: str, root: str | Path | None = None) -> tuple[str, Path]:
    """Create the staging folder of a new run of `notebook_stem`; (run id, folder)."""
    run_id = new_run_id()
    folder = _staging(notebook_stem, run_id, root)
    folder.mkdir(parents=True)
    return run_id, folder


def published(folder: str | Path) -> Path:
    """Where a run folder is (or will be, once finalised): a staging name maps to its run id."""
    folder = Path(folder)
    name = folder.name
    if name.startswith(_STAGE_PREFIX) and name.endswith(_STAGE_SUFFIX):
        return folder.parent / name[len(_STAGE_PREFIX) :].removesuffix(_STAGE_SUFFIX)
    return folder


def write_record(folder: Path, record: dict[str, Any]) -> Path:
    """Write the run record atomically."""
    path = folder / RECORD
    tracking.write_json_atomic(path, record)
    return path


def finalise(folder: Path) -> Path:
    """Rename a staged run into place; its final folder."""
    final = published(folder)
    os.rename(folder, final)
    return final


def remove_partial(root: str | Path | None = None, older_than_s: float = 3600) -> int:
    """Delete staging folders left by runs that died (kill -9) more than `older_than_s` ago."""
    removed = 0
    for folder in _root(root).glob(f"*/{_STAGE_PREFIX}*{_STAGE_SUFFIX}"):
        if time.time() - folder.stat().st_mtime > older_than_s:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


# --------------------------------------------------------------------------- reading runs


def list_runs(root: str | Path | None = None) -> list[dict[str, Any]]:
    """Every complete run under `root`, newest first; each record gets its folder as `_dir`."""
    paths = [
        p for p in _root(root).glob(f"*/*/{RECORD}") if not p.parent.name.startswith(_STAGE_PREFIX)
    ]
    return _records(paths, "started_at")


def _records(paths, newest_by: str) -> list[dict[str, Any]]:
    """The JSON records at `paths` (unreadable ones left out), each with its folder as `_dir`,
    newest first by field `newest_by`."""
    found = []
    for path in paths:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        record["_dir"] = path.parent
        found.append(record)
    found.sort(key=lambda r: r.get(newest_by, ""), reverse=True)
    return found


def find(notebook: str, run_id: str, root: str | Path | None = None) -> Path:
    """The folder of run `run_id` of `notebook`; `RunError` lists the latest runs otherwise."""
    folder = _root(root) / notebook / run_id
    if not (folder / RECORD).is_file():
        known = sorted(p.name for p in (_root(root) / notebook).glob("2*"))
        raise RunError(f"no run {run_id!r} of {notebook} ({folder}); latest runs: {known[-5:]}")
    return folder


def read_record(folder: str | Path, *, what: str = "") -> dict[str, Any]:
    """The run record of `folder`; `RunError` if it is not a finished run folder.

    `what` names the workflow the folder should come from, for the message.
    """
    path = Path(folder) / RECORD
    if not path.is_file():
        of = f" of {what}" if what else ""
        raise RunError(f"{folder} is not a run folder{of} (no {RECORD})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}: not valid JSON ({exc})") from None


def require_succeeded(record: dict[str, Any], consequence: str = "pick another") -> None:
    """`RunError` unless the run succeeded."""
    if record.get("status") != "succeeded":
        raise RunError(
            f"run {record.get('run_id')} did not succeed (status {record.get('status')}); "
            f"{consequence}"
        )


# --------------------------------------------------------------------------- artifacts


def current_folder() -> Path | None:
    """The folder of the run being recorded (None in an interactive session)."""
    return tracking.current().folder


def current_run_id() -> str | None:
    """The id of the run being recorded (None in an interactive session)."""
    folder = current_folder()
    return published(folder).name if folder else None


def artifact_dir(name: str, folder: str | Path | None = None, *, final: bool = False) -> Path:
    """Folder artifact `name` of run `folder` (default: the current run; an interactive session
    writes under the cache folder instead, so nothing lands in `reports/`). `final`: where it
    will be once the run is finished (the path to tell a reader)."""
    base = Path(folder) if folder else (current_folder() or config.cache_dir() / "interactive")
    return (published(base) if final else base) / name


def table_path(folder: str | Path, name: str) -> Path:
    return Path(folder) / f"{name}.jsonl"


def save_table(df, name: str) -> Path | None:
    """Keep a table in the current run as artifact `name` (JSON lines, secrets redacted)."""
    folder = current_folder()
    if folder is None:
        return None
    path = table_path(folder, name)
    df.to_json(path, orient="records", lines=True, force_ascii=False)
    path.write_text(config.redact(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def read_table(folder: str | Path, name: str, **read_json: Any):
    """Table artifact `name` of run `folder` as a DataFrame; `RunError` if the run has none."""
    import pandas as pd  # the run-folder layer itself does not need pandas

    path = table_path(folder, name)
    if not path.is_file():
        raise RunError(f"run {Path(folder).name} has no saved {name!r} table ({path})")
    return pd.read_json(path, orient="records", lines=True, **read_json)


def save_json(name: str, data: dict[str, Any]) -> Path | None:
    """Keep a JSON artifact (e.g. the spec a workflow needs to be replayed) in the current run."""
    folder = current_folder()
    if folder is None:
        return None
    path = Path(folder) / f"{name}.json"
    tracking.write_json_atomic(path, data)
    return path


def read_json(folder: str | Path, name: str, *, hint: str = "") -> dict[str, Any]:
    """JSON artifact `name` of run `folder`; `RunError` (with `hint`) if the run has none."""
    path = Path(folder) / f"{name}.json"
    if not path.is_file():
        raise RunError(f"run {Path(folder).name} has no {name!r} artifact ({path}){hint}")
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- moving runs


def pack(folder: str | Path) -> bytes:
    """A finished run folder as gzipped tar bytes (to bring a run back from another node)."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(str(folder), arcname=".")
    return buffer.getvalue()


def unpack(data: bytes, notebook_stem: str, run_id: str, root: str | Path | None = None) -> Path:
    """Place a packed run under `root` as `notebook_stem/run_id`, staged then renamed into place."""
    import io
    import tarfile

    folder = _staging(notebook_stem, run_id, root)
    folder.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(folder, filter="data")  # "data": no absolute paths, links or devices
    return finalise(folder)


# --------------------------------------------------------------------------- sweeps

SWEEPS = "sweeps"
SWEEP_RECORD = "sweep.json"
SWEEP_PAGE = "index.html"


def sweep_dir(sweep_id: str, root: str | Path | None = None) -> Path:
    """The folder of sweep `sweep_id`: its record and its page."""
    return _root(root) / SWEEPS / sweep_id


def list_sweeps(root: str | Path | None = None) -> list[dict[str, Any]]:
    """Every sweep record under `root`, newest first; each gets its folder as `_dir`."""
    return _records((_root(root) / SWEEPS).glob(f"*/{SWEEP_RECORD}"), "finished_at")
