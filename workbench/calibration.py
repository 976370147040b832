"""How far a judge is from a person: agreement between human labels and a judge's on the same
items, each figure with a bootstrap interval.

Rubric scores (ordinal): Cohen's kappa weighted quadratically (a 4 against a 5 costs less than
a 1 against a 5), unweighted kappa, Spearman's rank correlation, exact and within-one
agreement, and the confusion table. Pairwise preferences: the agreement rate, the judge's
consistency when the two answers swap places, and its position bias (the share of decided
verdicts that chose the answer shown first; 0.5 is none). Items the judge could not score are
counted, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

N_RESAMPLES = 2000


def _interval(
    stat: Callable[[np.ndarray], float], n: int, seed: int, confidence: float = 0.95
) -> tuple[float | None, float | None, int]:
    """Percentile bootstrap of `stat(indices)` over `n` items; (low, high, resamples where the
    statistic was undefined, e.g. every resampled label equal)."""
    rng = np.random.default_rng(seed)
    values = []
    undefined = 0
    for _ in range(N_RESAMPLES):
        v = stat(rng.integers(0, n, n))
        if v is None or not np.isfinite(v):
            undefined += 1
        else:
            values.append(v)
    if not values:
        return None, None, undefined
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi), undefined


def _figure(stat, n: int, seed: int) -> dict[str, Any]:
    value = stat(np.arange(n))
    low, high, undefined = _interval(stat, n, seed)
    ok = value is not None and np.isfinite(value)
    return {
        "value": float(value) if ok else None,
        "low": low,
        "high": high,
        "undefined_resamples": undefined,
    }


def rubric_agreement(
    human: Sequence[float], judge: Sequence[float], scale: tuple[int, int] = (1, 5), seed: int = 0
) -> dict[str, Any]:
    """Agreement of `judge` rubric scores with `human` ones, item by item (NaN: unscored)."""
    from scipy.stats import spearmanr
    from sklearn.metrics import cohen_kappa_score

    h_all = np.asarray(human, dtype=float)
    j_all = np.asarray(judge, dtype=float)
    if h_all.shape != j_all.shape:
        raise ValueError(f"{len(h_all)} human labels against {len(j_all)} judge scores")
    if np.isnan(h_all).any():
        raise ValueError(f"{int(np.isnan(h_all).sum())} item(s) have no human label")
    scored = ~np.isnan(j_all)
    h, j = h_all[scored].astype(int), j_all[scored].astype(int)
    labels = list(range(scale[0], scale[1] + 1))
    n = len(h)

    def kappa(weights):
        def stat(idx):
            a, b = h[idx], j[idx]
            if len(set(a)) < 2 and len(set(b)) < 2:
                return None  # kappa is undefined when both raters use one label only
            return cohen_kappa_score(a, b, labels=labels, weights=weights)

        return stat

    def spearman(idx):
        a, b = h[idx], j[idx]
        if len(set(a)) < 2 or len(set(b)) < 2:
            return None
        return float(spearmanr(a, b).statistic)

    out: dict[str, Any] = {"n": n, "unscored": int((~scored).sum())}
    if n == 0:
        return {**out, "confusion": pd.DataFrame()}
    out["kappa_weighted"] = _figure(kappa("quadratic"), n, seed)
    out["kappa"] = _figure(kappa(None), n, seed)
    out["spearman"] = _figure(spearman, n, seed)
    out["exact_agreement"] = _figure(lambda idx: float(np.mean(h[idx] == j[idx])), n, seed)
    out["within_one"] = _figure(lambda idx: float(np.mean(abs(h[idx] - j[idx]) <= 1)), n, seed)
    out["mean_difference"] = float(np.mean(j - h))  # > 0: the judge is more lenient
    confusion = pd.crosstab(
        pd.Categorical(h, categories=labels), pd.Categorical(j, categories=labels), dropna=False
    )
    confusion.index.name, confusion.columns.name = "human", "judge"
    out["confusion"] = confusion
    return out


PICKS = ("X", "Y", "tie")


def combined_verdict(first: str | None, second: str | None) -> str | None:
    """One verdict from the two orders: agreeing verdicts stand, disagreeing ones are a tie
    (as `judge.pairwise` scores them); None where either could not be parsed."""
    if first is None or second is None:
        return None
    return first if first == second else "tie"


def pairwise_agreement(
    human: Sequence[str],
    judge_first: Sequence[str | None],
    judge_second: Sequence[str | None],
    seed: int = 0,
) -> dict[str, Any]:
    """Agreement of a judge's preferences with `human` ones ("X", "Y" or "tie" per item).

    `judge_first` is the verdict with X shown first, `judge_second` with Y shown first (both in
    X/Y terms, as `judge.pairwise` returns them).
    """
    bad = sorted({v for v in human if v not in PICKS})
    if bad:
        raise ValueError(f"human preferences must be X, Y or tie; got {bad}")
    verdicts = [combined_verdict(a, b) for a, b in zip(judge_first, judge_second, strict=True)]
    keep = [i for i, v in enumerate(verdicts) if v is not None]
    h = np.asarray([human[i] for i in keep], dtype=object)
    v = np.asarray([verdicts[i] for i in keep], dtype=object)
    first = [judge_first[i] for i in keep]
    second = [judge_second[i] for i in keep]
    # A decided verdict "picked the first-shown answer" when it chose X with X first, or Y
    # with Y first.
    picks_shown_first = np.asarray(
        [p == "X" for p in first if p in ("X", "Y")]
        + [p == "Y" for p in second if p in ("X", "Y")],
        dtype=float,
    )
    consistent = np.asarray([a == b for a, b in zip(first, second, strict=True)], dtype=float)
    n = len(keep)
    out: dict[str, Any] = {"n": n, "unscored": len(verdicts) - n}
    if n == 0:
        return {**out, "confusion": pd.DataFrame()}
    out["agreement"] = _figure(lambda idx: float(np.mean(h[idx] == v[idx])), n, seed)
    out["consistency"] = _figure(lambda idx: float(np.mean(consistent[idx])), n, seed)
    m = len(picks_shown_first)
    out["position_bias"] = (
        _figure(lambda idx: float(np.mean(picks_shown_first[idx])), m, seed)
        if m
        else {"value": None, "low": None, "high": None, "undefined_resamples": 0}
    )
    confusion = pd.crosstab(
        pd.Categorical(h, categories=PICKS), pd.Categorical(v, categories=PICKS), dropna=False
    )
    confusion.index.name, confusion.columns.name = "human", "judge"
    out["confusion"] = confusion
    return out


def disagreements(items: pd.DataFrame, human: str, judge: str, k: int = 10) -> pd.DataFrame:
    """The `k` items where judge and human differ most (rubric: by distance; text labels: every
    mismatch), unscored items first since they are the judge's plainest failures."""
    frame = items.copy()
    numeric = pd.api.types.is_numeric_dtype(frame[human])
    if numeric:
        frame["distance"] = (frame[judge] - frame[human]).abs()
        frame.loc[frame[judge].isna(), "distance"] = np.inf
    else:
        frame["distance"] = (frame[judge] != frame[human]).astype(float)
        frame.loc[frame[judge].isna(), "distance"] = np.inf
    frame = frame[frame["distance"] > 0].sort_values("distance", ascending=False, kind="stable")
    return frame.head(k)


def summary_table(result: dict[str, Any], names: Sequence[str]) -> pd.DataFrame:
    """The figures `names` of an agreement result as rows: value, interval, undefined resamples."""
    rows = []
    for name in names:
        f = result.get(name) or {}
        rows.append(
            {
                "figure": name,
                "value": f.get("value"),
                "ci_low": f.get("low"),
                "ci_high": f.get("high"),
                "n": result["n"],
                "unscored": result["unscored"],
            }
        )
    return pd.DataFrame(rows).set_index("figure")


# --------------------------------------------------------------------------- against people

STRENGTH = (
    (0.2, "slight"),
    (0.4, "fair"),
    (0.6, "moderate"),
    (0.8, "substantial"),
    (1.01, "almost perfect"),
)


def _strength(kappa: float | None) -> str:
    if kappa is None:
        return "undefined"
    if kappa <= 0:
        return "no better than chance"
    return next(word for limit, word in STRENGTH if kappa < limit)


def _human(task: str, kind: str, folder) -> tuple[pd.DataFrame, str] | None:
    """The shipped human labels of `task` (items joined with each item's latest label)."""
    from pathlib import Path

    from . import config
    from .data import read_jsonl
    from .labels import LabelStore

    base = Path(folder) if folder else config.datasets_dir() / "human_labels"
    items_path = base / f"{task}_{kind}_items.jsonl"
    if not items_path.is_file():
        return None
    items = read_jsonl(items_path)
    store = LabelStore(base / f"{task}_{kind}_labels.jsonl", items, kind)
    latest = store.latest()
    frame = pd.DataFrame(items)
    frame["human"] = [latest.get(i["id"], {}).get("label") for i in items]
    return frame[frame["human"].notna()], config.project_relative(items_path)


def _fmt(f: dict[str, Any]) -> str:
    if f.get("value") is None:
        return "undefined"
    return f"{f['value']:.2f} [{f['low']:.2f}, {f['high']:.2f}]"


def against_humans(
    task: str,
    results: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    scale: tuple[int, int] = (1, 5),
    seed: int = 0,
    folder=None,
) -> dict[str, Any]:
    """The run's judge verdicts beside the shipped human labels of the same answers.

    An answer counts as the same when its case, template and text are identical, so a model
    that now answers differently is not compared with a verdict on another text. Returns a
    plain-language `summary`, `tables` to show and `record` (what `run.json` keeps).
    """
    from . import tracking

    out: dict[str, Any] = {"tables": {}, "record": {}}
    lines = []
    rubric = _human(task, "rubric", folder)
    if rubric is None:
        out["summary"] = (
            f"No human labels for task `{task}` (`datasets/human_labels/{task}_rubric_items.jsonl`): "
            "this judge has not been compared with a person, so its scores are unchecked."
        )
        return out
    human, source = rubric
    judged = results[results["error"].isna()].copy()
    judged["judge"] = scale[0] + judged["judge_score"] * (scale[1] - scale[0])
    matched = judged.merge(
        human.rename(columns={"answer": "output", "question": "case_question"}),
        on=["case_id", "variant", "output"],
        suffixes=("", "_human"),
    )
    r = rubric_agreement(matched["human"], matched["judge"], scale, seed)
    out["record"]["rubric"] = {k: v for k, v in r.items() if k != "confusion"}
    lines.append(
        f"**{len(matched)} of the {len(judged)} judged answers** have a person's score in "
        f"`{source}` (same case, template and answer text)."
    )
    if r["n"]:
        kw = r["kappa_weighted"]
        lines.append(
            f"Rubric: weighted kappa {_fmt(kw)} ({_strength(kw['value'])} agreement), exact "
            f"agreement {_fmt(r['exact_agreement'])}, Spearman {_fmt(r['spearman'])}; the judge "
            f"scores {r['mean_difference']:+.2f} points on average against the person"
            + (f"; {r['unscored']} answer(s) it could not score." if r["unscored"] else ".")
        )
        out["tables"]["Rubric: judge against person"] = summary_table(
            r, ["kappa_weighted", "kappa", "spearman", "exact_agreement", "within_one"]
        ).round(3)
        out["tables"]["Rubric scores (rows: person, columns: judge)"] = r["confusion"]
        if kw["value"] is not None and kw["value"] < 0.2:
            lines.append(
                "**In plain terms: this judge's scores say almost nothing about what a person "
                "would score; do not rank variants on them.**"
            )
        worst = disagreements(matched, "human", "judge", k=8)
        out["tables"]["Largest disagreements"] = (
            worst[["case_id", "variant", "output", "reference", "human", "judge"]]
            .rename(columns={"output": "answer"})
            .round({"judge": 2})
            .reset_index(drop=True)
        )
    pair_human = _human(task, "pairwise", folder)
    if pairs is not None and len(pairs) and pair_human is not None:
        hp, _ = pair_human
        both = pairs.merge(hp, on=["case_id", "variant", "baseline", "answer_x", "answer_y"])
        p = pairwise_agreement(
            both["human"].tolist(), both["first"].tolist(), both["second"].tolist(), seed
        )
        out["record"]["pairwise"] = {k: v for k, v in p.items() if k != "confusion"}
        lines.append(
            f"Pairwise: {len(both)} of {len(pairs)} judged pairs have a person's preference; "
            f"agreement {_fmt(p.get('agreement', {}))}, the same verdict in both orders "
            f"{_fmt(p.get('consistency', {}))}, verdicts for the answer shown first "
            f"{_fmt(p.get('position_bias', {}))} (0.5 = no position bias)."
        )
        bias = (p.get("position_bias") or {}).get("value")
        if bias is not None and abs(bias - 0.5) >= 0.3:
            lines.append(
                f"**The pairwise judge chose the answer shown first in {bias:.0%} of its decided "
                "verdicts: its preferences follow position, not content.**"
            )
        if p["n"]:
            out["tables"]["Pairwise: judge against person"] = summary_table(
                p, ["agreement", "consistency", "position_bias"]
            ).round(3)
            out["tables"]["Preferences (rows: person, columns: judge)"] = p["confusion"]
    out["summary"] = " ".join(lines)
    tracking.current().log_section("judge_calibration", out["record"])
    return out
