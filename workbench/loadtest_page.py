"""The report page of a load test (`workbench loadtest`): the levels' figures, the
throughput-latency chart with its knee, and the failed requests. Server text is escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from . import config, runs
from .display import frame_html
from .pages import render
from .plots import loadtest_curve, png_data_uri

SHOWN = (
    "completed", "failed", "not_sent", "request_throughput", "output_throughput",
    "request_goodput", "median_ttft_ms", "p99_ttft_ms", "median_tpot_ms", "median_itl_ms",
    "p99_itl_ms", "median_e2el_ms", "p90_e2el_ms", "p99_e2el_ms",
)  # fmt: skip # one list of column names, fourteen lines long when expanded


def write(
    folder: Path, record: dict[str, Any], failures: list[dict[str, Any]] | None = None
) -> Path:
    """Write `report.html` into the load test's run folder."""
    levels = record["levels"]
    table = pd.DataFrame(levels).set_index("level")
    shown = [c for c in SHOWN if c in table.columns and table[c].notna().any()]
    every = [c for c in table.columns if c not in ("mode", "value")]
    knee = record["metrics"].get("knee")
    page = render(
        "loadtest.html.j2",
        record=record,
        table=Markup(frame_html(table[shown].round(2))),
        full=Markup(frame_html(table[every].round(2).T)),
        plot=png_data_uri(loadtest_curve(levels, knee)),
        failures=failures or [],
    )
    path = folder / runs.REPORT
    path.write_text(config.redact(page), encoding="utf-8")
    return path
