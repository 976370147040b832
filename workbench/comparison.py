"""Two runs of one notebook side by side: the parameters that differ, the headline metrics with
their change (and intervals where the run recorded them), and the cases whose score flipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from . import runs
from .errors import RunError

KEYS = ("model", "task", "case_id", "variant", "config", "repeat")
NOT_SCORES = {
    "repeat", "latency_s", "ttft_s", "prompt_tokens", "completion_tokens", "cost_usd",
    "attempts", "cached", "tokens", "steps",
}  # fmt: skip # a set of column names


def run_choices(notebook: str, root: str | Path | None = None) -> list[tuple[str, Path]]:
    """(label, folder) of every finished run of `notebook`, newest first."""
    found = [r for r in runs.list_runs(root) if Path(r.get("notebook", "")).stem == notebook]
    return [
        (
            f"{r['run_id']} ({r.get('status')}, commit {(r.get('git') or {}).get('commit', '')[:8]})",
            r["_dir"],
        )
        for r in found
    ]


def _interval(metrics: dict[str, Any], name: str) -> str:
    low, high = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
    return (
        f"[{low:.3g}, {high:.3g}]"
        if isinstance(low, int | float) and isinstance(high, int | float)
        else ""
    )


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def compare(a: str | Path, b: str | Path, threshold: float = 0.25) -> dict[str, pd.DataFrame]:
    """Parameters, metrics and flipped cases of run `b` against run `a` (same notebook)."""
    ra, rb = runs.read_record(a), runs.read_record(b)
    na, nb = Path(ra.get("notebook", "?")).stem, Path(rb.get("notebook", "?")).stem
    if na != nb:
        raise RunError(f"runs of different notebooks ({na}, {nb}) cannot be compared")
    pa, pb = ra.get("parameters") or {}, rb.get("parameters") or {}
    params = pd.DataFrame(
        [
            {"parameter": k, "run A": repr(pa.get(k)), "run B": repr(pb.get(k))}
            for k in dict.fromkeys([*pa, *pb])
            if pa.get(k) != pb.get(k)
        ],
        columns=["parameter", "run A", "run B"],
    )
    ma, mb = ra.get("metrics") or {}, rb.get("metrics") or {}
    rows = []
    for name in dict.fromkeys([*ma, *mb]):
        if name.endswith(("_ci_low", "_ci_high")):
            continue
        va, vb = ma.get(name), mb.get(name)
        rows.append(
            {
                "metric": name,
                "run A": va,
                "A interval": _interval(ma, name),
                "run B": vb,
                "B interval": _interval(mb, name),
                "change": vb - va if _number(va) and _number(vb) else None,
            }
        )
    metrics = pd.DataFrame(
        rows, columns=["metric", "run A", "A interval", "run B", "B interval", "change"]
    )
    return {
        "parameters": params,
        "metrics": metrics,
        "flipped": flipped(Path(a), Path(b), threshold),
        "runs": pd.DataFrame(
            [
                {
                    "run": "A",
                    "run_id": ra["run_id"],
                    "status": ra.get("status"),
                    "started": ra.get("started_at"),
                },
                {
                    "run": "B",
                    "run_id": rb["run_id"],
                    "status": rb.get("status"),
                    "started": rb.get("started_at"),
                },
            ]
        ),
    }


def flipped(a: Path, b: Path, threshold: float) -> pd.DataFrame:
    """Cases whose score moved by `threshold` or more between the runs' per-case tables."""
    try:
        ta, tb = runs.read_table(a, "results"), runs.read_table(b, "results")
    except RunError:
        return pd.DataFrame(columns=["metric", "score A", "score B", "output A", "output B"])
    keys = [k for k in KEYS if k in ta.columns and k in tb.columns]
    scores = [
        c for c in ta.columns
        if c in tb.columns and c not in NOT_SCORES and c not in keys
        and pd.api.types.is_numeric_dtype(ta[c]) and pd.api.types.is_numeric_dtype(tb[c])
        and not pd.api.types.is_bool_dtype(ta[c])
    ]  # fmt: skip # one filter, condition by condition
    if not keys or not scores:
        return pd.DataFrame(columns=["metric", "score A", "score B", "output A", "output B"])
    both = ta.merge(tb, on=keys, suffixes=(" A", " B"))
    frames = []
    for s in scores:
        moved = both[(both[f"{s} B"] - both[f"{s} A"]).abs() >= threshold]
        if len(moved):
            part = moved[keys].copy()
            part["metric"] = s
            part["score A"], part["score B"] = moved[f"{s} A"], moved[f"{s} B"]
            part["output A"] = moved.get("output A")
            part["output B"] = moved.get("output B")
            frames.append(part)
    return (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*keys, "metric"])
    )
