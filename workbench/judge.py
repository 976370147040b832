"""LLM-as-judge: rubric scores and pairwise preferences from any catalog model.

Judge output is never dropped silently:
- in-process models choose among the allowed labels by scoring each label's log-probability,
  so a parse failure cannot happen (the reason is generated afterwards, as free text);
- HTTP models are asked for JSON-schema output, parsed tolerantly and retried; what still
  cannot be parsed is counted (`parse_failures`) and kept with the raw output.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import tracking
from .llm import Request, generate_many, get_provider, label_logprobs
from .stats import bootstrap_ci

RUBRIC_SYSTEM = (
    "You are a strict evaluator. Rate how well the answer responds to the request, "
    "compared with the reference answer, on a scale from {low} (wrong or useless) "
    "to {high} (fully correct and helpful)."
)
RUBRIC_USER = (
    "Request:\n{question}\n\nReference answer:\n{reference}\n\nAnswer to rate:\n{answer}\n\n"
    "Reply with a single number from {low} to {high}."
)
PAIRWISE_SYSTEM = (
    "You are a strict evaluator. Decide which of two answers responds better to the request."
)
PAIRWISE_USER = (
    "Request:\n{question}\n\nAnswer A:\n{a}\n\nAnswer B:\n{b}\n\n"
    "Which answer is better? Reply with A, B or tie."
)
PAIR_LABELS = ["A", "B", "tie"]


@dataclass
class JudgeStats:
    judged: int = 0
    parse_failures: int = 0
    errors: int = 0


def _record(kind: str, judge_model: str, stats: JudgeStats) -> None:
    tracking.current().record_judge(f"{kind}:{judge_model}", stats.__dict__)


def _json_schema(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": name,
            "strict": True,
            "schema": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


def parse_json_field(text: str, key: str, allowed: list[str]) -> str | None:
    """The value of `key` from a judge reply: JSON, JSON inside prose or fences, or `key: value`."""
    candidates = [text] + re.findall(r"\{.*?\}", text, flags=re.S)
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except (json.JSONDecodeError, TypeError):
            continue
        if isinstance(data, dict) and str(data.get(key)).strip() in allowed:
            return str(data[key]).strip()
    match = re.search(
        rf"\b{key}\b[^A-Za-z0-9]*(?:is|was|=|of)?\s*[\"']?([A-Za-z0-9]+)", text, flags=re.I
    )
    if match and match.group(1) in allowed:
        return match.group(1)
    bare = text.strip().strip(".\"'")
    return bare if bare in allowed else None


def _http_judge(
    judge_model: str,
    conversations: list[list[dict[str, str]]],
    key: str,
    allowed: list[str],
    schema: dict[str, Any],
    max_tokens: int,
    parse_retries: int,
    stats: JudgeStats,
) -> list[tuple[str | None, str, str]]:
    """(label or None, reason, raw text) per conversation, retrying unparseable replies."""
    out: list[tuple[str | None, str, str] | None] = [None] * len(conversations)
    todo = list(range(len(conversations)))
    fmt: dict[str, Any] | None = schema
    for attempt in range(parse_retries + 1):
        # A retry is a new call (repeat index), not the cached malformed answer again.
        reqs = [
            Request(conversations[i], max_tokens=max_tokens, response_format=fmt, repeat=attempt)
            for i in todo
        ]
        responses = generate_many(judge_model, reqs, progress=False)
        if fmt and all(not r.ok and "HTTP 400" in (r.error or "") for r in responses):
            # A server that refuses structured output: ask again in plain text and parse that.
            fmt = None
            reqs = [Request(r.messages, max_tokens=max_tokens, repeat=attempt) for r in reqs]
            responses = generate_many(judge_model, reqs, progress=False)
        still = []
        for i, resp in zip(todo, responses, strict=True):
            if not resp.ok:
                out[i] = (None, f"judge call failed: {resp.error}", "")
                continue
            label = parse_json_field(resp.text, key, allowed)
            if label is None:
                out[i] = (None, "unparseable judge output", resp.text)
                still.append(i)
                continue
            reason = parse_json_field(resp.text, "reason", []) or _reason_from_json(resp.text)
            out[i] = (label, reason, resp.text)
        todo = still
        if not todo:
            break
    for label, reason, _ in out:  # type: ignore[misc]
        if label is None:
            if reason.startswith("judge call failed"):
                stats.errors += 1
            else:
                stats.parse_failures += 1
    return out  # type: ignore[return-value]


def _reason_from_json(text: str) -> str:
    for candidate in [text] + re.findall(r"\{.*?\}", text, flags=re.S):
        try:
            data = json.loads(candidate)
        except (json.JSONDecodeError, TypeError):
            continue
        if isinstance(data, dict) and data.get("reason"):
            return str(data["reason"])
    return ""


def _local_reasons(
    judge_model: str, conversations, labels: list[str], max_tokens: int = 40
) -> list[str]:
    reqs = [
        Request(
            messages=[
                *conv,
                {"role": "assistant", "content": label},
                {"role": "user", "content": "In one short sentence, why?"},
            ],
            max_tokens=max_tokens,
        )  # fmt: skip # compact: expanded, this module would pass 400 lines
        for conv, label in zip(conversations, labels, strict=True)
    ]
    return [
        r.text if r.ok else f"(no reason: {r.error})"
        for r in generate_many(judge_model, reqs, progress=False)
    ]


def classify(
    judge_model: str,
    conversations: list[list[dict[str, str]]],
    labels: list[str],
    *,
    kind: str,
    key: str = "verdict",
    reasons: bool = False,
    max_tokens: int = 64,
    parse_retries: int = 2,
) -> list[tuple[str | None, str, str]]:
    """One of `labels` per conversation, as (label or None, reason, raw reply).

    An in-process judge picks the label with the highest log-probability (it cannot fail to
    parse); an HTTP judge is asked for JSON `{key: label}` and retried. Counts go to the run
    record under `judges` as `<kind>:<judge_model>`.
    """
    stats = JudgeStats(judged=len(conversations))
    if get_provider(judge_model).supports("local_logprobs"):
        scored = label_logprobs(judge_model, conversations, labels)
        chosen = [max(s, key=s.get) for s in scored]
        why = _local_reasons(judge_model, conversations, chosen) if reasons else [""] * len(chosen)
        rows: list[tuple[str | None, str, str]] = [
            (lab, w, lab) for lab, w in zip(chosen, why, strict=True)
        ]
    else:
        numeric = all(lab.lstrip("-").isdigit() for lab in labels)
        enum = ({"type": "integer", "enum": [int(x) for x in labels]} if numeric
                else {"type": "string", "enum": labels})  # fmt: skip # compact: expanded, this module would pass 400 lines
        props = {key: enum} | ({"reason": {"type": "string"}} if reasons else {})
        schema = _json_schema(kind, props)
        rows = _http_judge(judge_model, conversations, key, labels, schema, max_tokens,
                           parse_retries, stats)  # fmt: skip # compact: expanded, this module would pass 400 lines
    _record(kind, judge_model, stats)
    return rows


def rubric(
    judge_model: str,
    questions: list[str],
    answers: list[str],
    references: list[str],
    *,
    scale: tuple[int, int] = (1, 5),
    reasons: bool = True,
    parse_retries: int = 2,
) -> pd.DataFrame:
    """Score each answer on `scale` with a one-line reason.

    Columns: score (NaN only where a judge reply could not be parsed, see `parse_failure`),
    normalised (0-1), reason, parse_failure, raw.
    """
    low, high = scale
    allowed = [str(v) for v in range(low, high + 1)]
    system = RUBRIC_SYSTEM.format(low=low, high=high)
    convs = [
        [{"role": "system", "content": system},
         {"role": "user", "content": RUBRIC_USER.format(question=q, answer=a, reference=r, low=low, high=high)}]
        for q, a, r in zip(questions, answers, references, strict=True)
    ]  # fmt: skip # compact: expanded, this module would pass 400 lines
    rows = classify(judge_model, convs, allowed, kind="rubric", key="score", reasons=reasons,
                    max_tokens=96, parse_retries=parse_retries)  # fmt: skip # compact: expanded, this module would pass 400 lines
    df = pd.DataFrame(rows, columns=["label", "reason", "raw"])
    df["score"] = pd.to_numeric(df["label"], errors="coerce")
    df["normalised"] = (df["score"] - low) / (high - low)
    df["parse_failure"] = df["label"].isna() & ~df["reason"].str.startswith("judge call failed")
    return df.drop(columns="label")


def pairwise(
    judge_model: str,
    questions: list[str],
    answers_x: list[str],
    answers_y: list[str],
    *,
    parse_retries: int = 2,
) -> pd.DataFrame:
    """Compare X against Y per case, judged in both orders to cancel position bias.

    Columns: first (verdict with X as A), second (verdict with Y as A, mapped back to X/Y
    terms), outcome (1 = X better, 0.5 = tie or inconsistent, 0 = Y better, NaN = unparsed),
    parse_failures.
    """

    def convs(first: list[str], second: list[str]):
        return [
            [{"role": "system", "content": PAIRWISE_SYSTEM},
             {"role": "user", "content": PAIRWISE_USER.format(question=q, a=a, b=b)}]
            for q, a, b in zip(questions, first, second, strict=True)
        ]  # fmt: skip # compact: expanded, this module would pass 400 lines

    forward, backward = convs(answers_x, answers_y), convs(answers_y, answers_x)
    rows = classify(judge_model, forward + backward, PAIR_LABELS, kind="pairwise", key="winner",
                    max_tokens=32, parse_retries=parse_retries)  # fmt: skip # compact: expanded, this module would pass 400 lines
    verdicts = [label for label, _, _ in rows]
    n = len(questions)
    first = [{"A": "X", "B": "Y", "tie": "tie"}.get(v) if v else None for v in verdicts[:n]]
    second = [{"A": "Y", "B": "X", "tie": "tie"}.get(v) if v else None for v in verdicts[n:]]
    points = {"X": 1.0, "tie": 0.5, "Y": 0.0}
    outcome = [
        np.nan if a is None or b is None else (points[a] + points[b]) / 2
        for a, b in zip(first, second, strict=True)
    ]
    return pd.DataFrame({
        "first": first, "second": second, "outcome": outcome,
        "parse_failure": [a is None or b is None for a, b in zip(first, second, strict=True)],
    })  # fmt: skip # compact: expanded, this module would pass 400 lines


def win_rates(outcomes: pd.Series, seed: int = 0) -> dict[str, Any]:
    """Win / tie / loss rates of X over Y and the mean preference with a bootstrap interval."""
    valid = outcomes.dropna()
    if valid.empty:
        return {"n": 0, "win": None, "tie": None, "loss": None, "preference": None,
                "ci_low": None, "ci_high": None, "unparsed": int(outcomes.isna().sum())}  # fmt: skip # compact: expanded, this module would pass 400 lines
    mean, lo, hi = bootstrap_ci(valid.tolist(), seed=seed)
    return {
        "n": int(len(valid)),
        "win": float((valid > 0.5).mean()),
        "tie": float((valid == 0.5).mean()),
        "loss": float((valid < 0.5).mean()),
        "preference": mean,
        "ci_low": lo,
        "ci_high": hi,
        "unparsed": int(outcomes.isna().sum()),
    }


# A judge fails its discrimination check when one verdict covers at least this share of its
# verdicts, when it picks the first-shown answer at least this often (or this rarely), or when
# its scores do not rise with the task's reference metric (Spearman rho below this).
SAME_VERDICT_LIMIT = 0.9
POSITION_BIAS_LIMIT = 0.8
MIN_AGREEMENT = 0.2
MIN_CHECKED = 5


def check_discrimination(
    name: str,
    verdicts: Any,
    *,
    reference: Any = None,
    reference_name: str = "",
    picked_first: Any = None,
) -> dict[str, Any]:
    """Whether a judge tells answers apart: share of identical verdicts, position bias, agreement.

    `verdicts` are the judge's scores or labels (missing ones ignored); `reference` the task's
    own metric per answer, where one exists; `picked_first` per pairwise verdict, whether the
    judge chose the answer it was shown first. A failed check is recorded as a run warning,
    so the report and the index show it next to the judge's numbers.
    """
    v = pd.Series(list(verdicts), dtype=object)
    valid = v[v.notna()]
    out: dict[str, Any] = {"judge": name, "verdicts": int(len(valid))}
    problems = []
    if len(valid):
        counts = valid.astype(str).value_counts()
        out["same_verdict_share"] = float(counts.iloc[0] / len(valid))
        if len(valid) >= MIN_CHECKED and out["same_verdict_share"] >= SAME_VERDICT_LIMIT:
            problems.append(
                f"gave {counts.iloc[0]} of {len(valid)} answers the same verdict ({counts.index[0]})"
            )
    if picked_first is not None:
        picks = pd.Series(list(picked_first), dtype=object).dropna().astype(bool)
        if len(picks):
            share = float(picks.mean())
            out["picked_first_shown"] = share
            if (
                len(picks) >= MIN_CHECKED
                and not 1 - POSITION_BIAS_LIMIT < share < POSITION_BIAS_LIMIT
            ):
                problems.append(f"chose the answer shown first in {share:.0%} of comparisons")
    if reference is not None:
        from scipy.stats import spearmanr

        pairs = pd.DataFrame({"j": pd.to_numeric(v, errors="coerce"),
                              "r": pd.to_numeric(pd.Series(list(reference)), errors="coerce")}).dropna()  # fmt: skip # compact: expanded, this module would pass 400 lines
        rho = None
        if len(pairs) >= 3 and pairs["j"].nunique() > 1 and pairs["r"].nunique() > 1:
            rho = float(spearmanr(pairs["j"], pairs["r"]).statistic)
        out["agreement"], out["agreement_with"] = rho, reference_name
        if (
            len(pairs) >= MIN_CHECKED
            and pairs["r"].nunique() > 1
            and (rho is None or rho < MIN_AGREEMENT)
        ):
            shown = "its scores do not vary" if rho is None else f"Spearman rho = {rho:.2f}"
            problems.append(f"does not agree with {reference_name} ({shown})")
    out["passed"] = not problems
    out["problems"] = problems
    if problems:
        tracking.current().warn(
            f"judge {name} cannot discriminate: "
            + "; ".join(problems)
            + ". Its verdicts should not be trusted."
        )
    tracking.current().log_judge_check(name, out)
    return out


def discrimination_warning(check: dict[str, Any]) -> str:
    """Markdown: a visible warning for a judge that failed its check, a one-line pass otherwise."""
    if check["passed"]:
        return f"Judge check for `{check['judge']}`: passed ({check['verdicts']} verdicts)."
    return (
        f"**⚠ The judge `{check['judge']}` cannot discriminate:** "
        + "; ".join(check["problems"])
        + ". Its verdicts should not be trusted; use a stronger judge or rely on the task's metrics."
    )


def checks_table() -> pd.DataFrame:
    """The run's judge discrimination checks, one row per judge (see `check_discrimination`)."""
    checks = tracking.current().data.get("judge_checks", {})
    columns = ["judge", "verdicts", "same_verdict_share", "picked_first_shown", "agreement",
               "agreement_with", "passed"]  # fmt: skip # compact: expanded, this module would pass 400 lines
    rows = [{c: check.get(c) for c in columns} for check in checks.values()]
    return pd.DataFrame(rows, columns=columns).set_index("judge")
