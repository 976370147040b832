"""One monitoring run: a reference log against the windows of a current log, with the alert
rules; writes a run folder as notebooks do (`run.json`, `windows.jsonl`, `candidates.jsonl`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from .. import config, runs, tracking
from ..embeddings import embed
from ..errors import DataError
from ..io import write_json_atomic, write_jsonl
from . import alerts, evaluation, stats, traffic
from .drift import compare

MIN_REFERENCE = 50  # reference requests below which no test can say anything useful
NOTEBOOK = "monitor"


def analyse(
    ref_rows: list[dict[str, Any]],
    cur_windows: list[tuple[Any, list[dict[str, Any]]]],
    rule_list: list[alerts.Rule],
    ref_vectors=None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(one record per window, the alerts that fired, the uncovered requests as candidate
    evaluation cases) for windows of requests against the reference requests. Rows with
    continuous-evaluation checks (a trace store's, `evaluation.attach`ed, or a logged output)
    give each window its quality rates and their change against the reference's."""
    ref_texts = [r["input"] for r in ref_rows]
    ref_quality = evaluation.frame(ref_rows)
    if ref_vectors is None:
        ref_vectors = embed(ref_texts)
    windows, fired, candidates = [], [], []
    for start, rows in cur_windows:
        label = start.astimezone(UTC).isoformat().replace("+00:00", "Z")
        texts = [r["input"] for r in rows]
        drift = None
        # The reference window itself (notebook 07 cuts it from the same log) is not tested
        # against itself: a classifier's AUC on two copies of one sample means nothing.
        is_reference = rows is ref_rows
        if len(rows) >= stats.MIN_N and not is_reference:
            drift = compare(ref_texts, texts, reference_vectors=ref_vectors)
        quality = evaluation.frame(rows)
        metrics = {
            **alerts.window_metrics(drift, rows),
            **evaluation.window_quality(quality, ref_quality),
        }
        fired += alerts.evaluate(
            rule_list, label, metrics, drift.examples if drift else [], _counted(rows)
        )
        if drift:
            verdict = drift.verdict()
        elif is_reference:
            verdict = "reference"
        else:
            verdict = "not enough data" if rows else "empty window"
        windows.append(
            {
                "window": label,
                "verdict": verdict,
                **metrics,
                **_series(texts, drift),
                "tests": drift.table.to_dict("records") if drift else [],
                "ngrams": drift.ngrams if drift else [],
                # The requests themselves can be long (a pasted e-mail thread): show their start.
                "examples": [e if len(e) <= 300 else e[:300] + "…" for e in drift.examples]
                if drift
                else [],
            }
        )
        for i in drift.uncovered if drift else []:
            candidates.append(
                {
                    "id": f"cand-{rows[i].get('id', f'{label}-{i}')}",
                    "input": texts[i],
                    "reference": "",
                    "source": "production",
                    "window": label,
                    "nearest_evaluation_similarity": round(float(drift.coverage_similarity[i]), 3),
                }
            )
    return windows, fired, candidates


def _series(texts: list[str], drift) -> dict[str, Any]:
    """What the per-window time series plots with intervals: mean tokens per request
    (bootstrap) and the uncovered share (Wilson)."""
    from ..stats import bootstrap_ci, proportion_ci
    from .text import token_counts

    out: dict[str, Any] = dict.fromkeys(SERIES)
    if texts:
        tokens = token_counts(texts).tolist()
        out["tokens_mean"], out["tokens_mean_low"], out["tokens_mean_high"] = bootstrap_ci(tokens)
    if drift is not None:
        out["uncovered_low"], out["uncovered_high"] = proportion_ci(
            len(drift.uncovered), len(texts)
        )
    return out


SERIES = ("tokens_mean", "tokens_mean_low", "tokens_mean_high", "uncovered_low", "uncovered_high")


def _read(path: str | Path) -> list[dict[str, Any]]:
    """A log's requests; from a trace store, each with its continuous-evaluation checks."""
    rows = traffic.read_log(path)
    if Path(path).suffix.lower() in traffic.TRACE_STORES:
        from ..trace import TraceStore

        evaluation.attach(rows, evaluation.requests(TraceStore(path)), key="trace_id")
    return rows


def _counted(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """For each alertable rate, the requests that show its problem (an abstention, refusal,
    block or error; for grounding, an answer not grounded): trace id when traced, and input."""
    out: dict[str, list[str]] = {}
    for row in rows:
        checks = evaluation.checks(row) or {}
        for rate in evaluation.ALERT_RATES:
            if checks.get(rate) is (rate != "grounded"):
                where = f"trace {row['trace_id']}: " if row.get("trace_id") else ""
                text = row["input"] if len(row["input"]) <= 120 else row["input"][:120] + "…"
                out.setdefault(rate, []).append(where + text)
    return out


def run(
    reference: str | Path,
    current: str | Path,
    *,
    window: str = "1d",
    rules: str | Path | None = None,
    root: str | Path | None = None,
    render: Callable[[Path, dict[str, Any]], None] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Test every window of `current` against all of `reference`; (run folder, record).

    Everything the user can get wrong (the rules file, the logs, the window) is checked before
    any embedding is computed.
    """
    started = time.time()
    rule_list, version = alerts.load_rules(rules)
    traffic.parse_window(window)
    ref_rows = _read(reference)
    if len(ref_rows) < MIN_REFERENCE:
        raise DataError(
            f"{reference}: {len(ref_rows)} reference requests; at least {MIN_REFERENCE} are needed"
        )
    cur_windows = traffic.windows(_read(current), window)
    ref_vectors = embed([r["input"] for r in ref_rows])
    windows, fired, candidates = analyse(ref_rows, cur_windows, rule_list, ref_vectors)
    not_measured = alerts.unmeasured(rule_list, windows)
    run_id, stage = runs.stage(NOTEBOOK, root)
    write_jsonl(stage / "windows.jsonl", windows)
    write_jsonl(stage / "candidates.jsonl", candidates)
    finished = time.time()
    record = {
        **tracking.run_header(
            run_id,
            NOTEBOOK,
            {
                "reference": str(reference),
                "current": str(current),
                "window": window,
                "rules": config.project_relative(rules or alerts.default_path()),
            },
            started,
            finished,
        ),
        "status": "succeeded",
        "datasets": {
            config.project_relative(p): tracking.sha256_file(p) for p in (reference, current)
        },
        "alert_rules_version": version,
        "alerts": fired,
        "alert_rules_not_measured": not_measured,
        "warnings": [alerts.warning(a) for a in fired] + not_measured,
        "metrics": {
            "windows": len(windows),
            "alerts": len(fired),
            "drifted_windows": sum(w["verdict"].startswith("drift") for w in windows),
            "rules_not_measured": len(not_measured),
            "candidate_cases": len(candidates),
        },
        "usage": {"calls": 0, "errors": 0},
        "error": None,
        "files": {
            "report": runs.REPORT,
            "windows": "windows.jsonl",
            "candidates": "candidates.jsonl",
        },
    }
    if render is not None:
        render(stage, {**record, "windows": windows})
    runs.write_record(stage, record)
    write_json_atomic(stage / "summary.json", record["metrics"])
    return runs.finalise(stage), record


def windows_frame(windows: list[dict[str, Any]]):
    """One row per window: its verdict and every metric an alert rule can name."""
    import pandas as pd

    return pd.DataFrame(
        [{k: w.get(k) for k in ("window", "verdict", *alerts.METRICS, *SERIES)} for w in windows]
    ).set_index("window")


def tests_frame(windows: list[dict[str, Any]]):
    """One row per window and drift test: statistic, effect, p-value, adjusted p-value, verdict."""
    import pandas as pd

    rows = [{"window": w["window"], **t} for w in windows for t in w["tests"]]
    columns = [
        "window",
        "test",
        "feature",
        "statistic",
        "effect",
        "p_value",
        "p_adjusted",
        "verdict",
        "note",
    ]
    return pd.DataFrame(rows, columns=columns)
