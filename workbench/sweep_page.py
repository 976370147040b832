"""The page of a sweep (`reports/sweeps/<id>/index.html`): every run's parameters and headline
metrics, best first, sortable, each linking its report; one plot of the main metric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import config, runs
from .pages import render
from .plots import png_data_uri, sweep_metric

MAX_METRICS = 6


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _columns(record: dict[str, Any]) -> list[str]:
    """The main metric, then the other numeric headline metrics the runs share, in order."""
    names: list[str] = [record["metric"]] if record.get("metric") else []
    for row in record["runs"]:
        for name, value in row["metrics"].items():
            if _number(value) is not None and name not in names:
                names.append(name)
    return names[:MAX_METRICS]


def ordered(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs best first by the main metric; runs that did not measure it come last, unranked."""
    metric, sign = record.get("metric"), 1 if record.get("direction") == "min" else -1
    measured = [r for r in record["runs"] if _number(r["metrics"].get(metric)) is not None]
    rest = [r for r in record["runs"] if r not in measured]
    measured.sort(key=lambda r: sign * r["metrics"][metric])
    for rank, r in enumerate(measured, 1):
        r["rank"] = rank
    for r in rest:
        r["rank"] = None
    return measured + rest


def write(folder: Path, record: dict[str, Any]) -> Path:
    """Write the sweep's page into its folder."""
    columns = _columns(record)
    rows = ordered(record)
    shown = []
    for r in rows:
        shown.append(
            {
                "rank": r["rank"],
                "cells": [json.dumps(r["swept"][k], ensure_ascii=False) for k in record["swept"]],
                "metrics": [(_number(r["metrics"].get(c)), r["metrics"].get(c)) for c in columns],
                "status": r["status"],
                "cause": r["cause"],
                "skipped": r["skipped"],
                "duration": r.get("duration_s"),
                "failed_calls": r.get("failed_calls", 0),
                "href": f"../../{r['run_dir']}/{runs.REPORT}" if r.get("run_dir") else None,
                "run_id": r.get("run_id"),
            }
        )
    plotted = sum(1 for r in rows if r["rank"] is not None)
    plot = (
        png_data_uri(sweep_metric(record["runs"], record["swept"], record["metric"]))
        if plotted
        else None
    )
    page = render(
        "sweep.html.j2",
        record=record,
        columns=columns,
        rows=shown,
        plot=plot,
        plotted=plotted,
    )
    path = folder / runs.SWEEP_PAGE
    path.write_text(config.redact(page), encoding="utf-8")
    return path
