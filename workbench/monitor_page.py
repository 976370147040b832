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
from .pages import render


def write(folder: Path, record: dict[str, Any]) -> Path:
    """Write `report.html` into the run folder."""
    windows = record["windows"]
    alerts = pd.DataFrame(
        record["alerts"], columns=["window", "alert", "metric", "value", "op", "threshold"]
    )
    table = pd.DataFrame(
        [
            {"window": w["window"], "verdict": w["verdict"], **{m: w.get(m) for m in METRICS}}
            for w in windows
        ]
    )
    page = render(
        "monitor.html.j2",
        record=record,
        windows=windows,
        alerts_table=Markup(frame_html(alerts) if len(alerts) else "<p>None.</p>"),
        windows_table=Markup(frame_html(table.set_index("window"))),
    )
    path = folder / runs.REPORT
    path.write_text(config.redact(page), encoding="utf-8")
    return path
