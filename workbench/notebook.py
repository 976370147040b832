"""What every notebook calls first (`start_run`) and last (`run_health`)."""

from __future__ import annotations

import html

import pandas as pd

from . import display, tracking


def start_run(max_error_rate: float = 0.0) -> None:
    """Set the run's error budget and make tables read well.

    `max_error_rate` is the share of model calls that may fail before the run counts as
    failed (0: any failure). Under `workbench run`, a run past its budget exits non-zero.
    """
    run = tracking.current()
    run.set_error_budget(max_error_rate)
    display.install()


def failed_calls() -> pd.DataFrame:
    """The run's failed model calls so far, one row each (run.json keeps the first 200)."""
    failures = tracking.current().data.get("failures", [])
    return pd.DataFrame(failures, columns=["model", *tracking.FAILURE_LABELS, "error"]).dropna(
        axis=1, how="all"
    )


def run_health() -> str:
    """Markdown: failed calls against the error budget, and every warning about the numbers."""
    record = tracking.current().data
    budget = tracking.error_budget(record)
    e = html.escape
    if budget["exceeded"]:
        lines = [
            f"**✗ Run not whole: {e(tracking.budget_message(budget))}.** "
            "`workbench run` marks it failed and exits non-zero; the failed calls are listed above "
            "and in `run.json`."
        ]
    elif budget["errors"]:
        lines = [
            f"**{budget['errors']} of {budget['calls']} model calls failed**, within the error "
            f"budget (max_error_rate {budget['max_error_rate']:.1%}); they are excluded from "
            "every figure and counted where it is shown."
        ]
    elif budget["calls"]:
        lines = [f"All {budget['calls']} model calls succeeded."]
    else:
        lines = ["No model calls were made."]
    lines += [f"**⚠ {e(w)}**" for w in record.get("warnings", [])]
    return "\n\n".join(lines)
