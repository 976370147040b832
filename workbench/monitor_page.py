"""The report page of a monitoring run (`workbench monitor`): alerts, windows, what separates
each window. Everything a request contains is escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from . import config, runs
from .display import frame_html
from .monitor.alerts import METRICS
from .monitor.evaluation import ALERT_RATES, QUALITY_METRICS
from .pages import render


def write(folder: Path, record: dict[str, Any]) -> Path:
    """Write `report.html` into the run folder."""
    windows = record["windows"]
    alerts = pd.DataFrame(
        record["alerts"],
        columns=["window", "alert", "metric", "value", "op", "threshold", "p_value", "examples"],
    )
    alerts["examples"] = alerts["examples"].map(lambda e: " | ".join(e or []))
    drift = [m for m in METRICS if m not in QUALITY_METRICS]
    table = pd.DataFrame(
        [
            {"window": w["window"], "verdict": w["verdict"], **{m: w.get(m) for m in drift}}
            for w in windows
        ]
    )
    # One row per window and check keeps the table narrow enough to read.
    quality = pd.DataFrame(
        [
            {
                "window": w["window"],
                "check": rate,
                "evaluated": w.get("evaluated"),
                "rate": w.get(f"{rate}_rate"),
                "change": w.get(f"{rate}_change"),
                "change_p": w.get(f"{rate}_change_p"),
            }
            for w in windows
            for rate in ALERT_RATES
        ]
    )
    evaluated = any(w.get("evaluated") for w in windows)
    page = render(
        "monitor.html.j2",
        record=record,
        windows=windows,
        alerts_table=Markup(frame_html(alerts) if len(alerts) else "<p>None.</p>"),
        windows_table=Markup(frame_html(table.set_index("window"))),
        quality_table=Markup(frame_html(quality.set_index(["window", "check"])))
        if evaluated
        else None,
    )
    path = folder / runs.REPORT
    path.write_text(config.redact(page), encoding="utf-8")
    return path
