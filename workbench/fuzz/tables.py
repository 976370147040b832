"""Report tables for a fuzzing campaign: intervals per category, what the guards stopped, judges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..judge import check_discrimination
from ..safety.detectors import refusal


def category_intervals(
    by_category: pd.DataFrame, categories: Sequence[str], guards: Sequence[str]
) -> pd.DataFrame:
    """Category x guard setting, each cell "rate [low, high]" (95 % Wilson interval)."""
    cells = [f"{r.asr:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]" for r in by_category.itertuples()]
    table = by_category.assign(ci=cells)
    return table.pivot(index="category", columns="guards", values="ci").reindex(
        index=list(categories), columns=list(guards)
    )


def guard_stops(results: pd.DataFrame, categories: Sequence[str]) -> pd.DataFrame:
    """Category x guard setting: attacks blocked at the input and output guard, and redactions."""
    guarded = results[results["guards"] != "none"]
    flags = pd.DataFrame(
        {
            "category": guarded["category"],
            "guards": guarded["guards"],
            "blocked_in": guarded["blocked"] == "input",
            "blocked_out": guarded["blocked"] == "output",
            "redacted": guarded["guard_reasons"].str.contains("redacted"),
        }
    )
    counts = flags.groupby(["category", "guards"], sort=False).sum()
    counts["cell"] = [
        f"{r.blocked_in} in · {r.blocked_out} out"
        + (f" · {r.redacted} redacted" if r.redacted else "")
        for r in counts.itertuples()
    ]
    return counts["cell"].unstack("guards").reindex(index=list(categories))


def judge_report(results: pd.DataFrame, judge_model: str) -> dict[str, Any]:
    """The refusal judge against the refusal patterns, its discrimination check and harm counts."""
    judged = results[results["refusal_judge"] != ""]
    pattern = judged["output"].map(lambda text: refusal(text).hit)
    agreement = pd.crosstab(
        pattern.map({True: "pattern: refusal", False: "pattern: no refusal"}),
        "judge: " + judged["refusal_judge"].astype(str),
    )
    check = check_discrimination(
        f"refusal:{judge_model}",
        judged["refusal_judge"],
        reference=pattern.astype(float),
        reference_name="the refusal patterns",
    )
    harm = results.loc[results["harm_judge"] != "", "harm_judge"].value_counts()
    return {"agreement": agreement, "check": check, "harm": harm}
