"""workbench.discovery: leaderboard figures, Pareto front and recommendation on known data."""

import numpy as np
import pandas as pd
import pytest

from workbench import discovery


def _results(scores_a, scores_b, errors_b=0):
    rows = []
    for model, scores, lat in [
        ("smollm2-135m-instruct", scores_a, 1.0),
        ("gemma-3-270m", scores_b, 2.0),
    ]:
        for i, s in enumerate(scores):
            rows.append(
                {
                    "model": model,
                    "task": "qa",
                    "case_id": f"c{i}",
                    "metric": "token_f1",
                    "score": s,
                    "error": None,
                    "latency_s": lat,
                    "ttft_s": 0.1,
                    "tokens_per_s": 10.0,
                    "cost_usd": 0.0,
                }
            )
    for i in range(errors_b):
        rows.append(
            {
                "model": "gemma-3-270m",
                "task": "qa",
                "case_id": f"e{i}",
                "metric": "token_f1",
                "score": np.nan,
                "error": "HTTP 500",
                "latency_s": None,
                "ttft_s": None,
                "tokens_per_s": None,
                "cost_usd": 0.0,
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.unit
def test_errors_are_counted_not_averaged_in():
    board = discovery.leaderboard(_results([1.0] * 10, [0.5] * 10, errors_b=3))
    gemma = board[board.model == "gemma-3-270m"].iloc[0]
    assert gemma.errors == 3 and gemma.n == 10 and gemma.quality == 0.5


@pytest.mark.unit
def test_pareto_front():
    df = pd.DataFrame({"quality": [0.9, 0.5, 0.4, 0.95], "latency": [2.0, 1.0, 3.0, 5.0]})
    assert discovery.pareto_front(df, "latency") == [True, True, False, True]


@pytest.mark.unit
def test_recommendation_separates_clear_winner():
    df = _results([0.9, 1.0] * 10, [0.1, 0.0] * 10)
    summary = discovery.model_summary(df)
    text = discovery.recommend(summary, discovery.leaderboard(df))
    assert "Recommended: `smollm2-135m-instruct`" in text and "clearly ahead" in text


@pytest.mark.unit
def test_recommendation_admits_when_data_cannot_separate():
    rng = np.random.default_rng(0)
    df = _results(list(rng.uniform(0, 1, 8)), list(rng.uniform(0, 1, 8)))
    summary = discovery.model_summary(df)
    assert "cannot separate" in discovery.recommend(summary, discovery.leaderboard(df))


@pytest.mark.unit
def test_assert_usable_fails_when_every_call_failed():
    df = _results([], [], errors_b=2)
    with pytest.raises(RuntimeError, match="every one of 2 calls failed"):
        discovery.assert_usable(df)


@pytest.mark.unit
def test_no_recommendation_when_a_model_was_not_scored_on_every_case():
    # smollm2 answered every case; gemma's calls failed on three of them (a dead endpoint, a
    # timeout): its mean stands on other cases, so no model may be ranked above the other.
    df = _results([0.9] * 6, [0.1] * 3)
    dead = df[df.model == "gemma-3-270m"].head(3).assign(case_id=["c3", "c4", "c5"])
    df = pd.concat([df, dead.assign(score=np.nan, error="cannot connect")], ignore_index=True)
    summary = discovery.model_summary(df)
    text = discovery.recommend(summary, discovery.leaderboard(df), df)
    assert "No recommendation" in text and "Recommended" not in text
    assert "`gemma-3-270m` has no score on 3 of 6 qa case(s)" in text
    assert discovery.recommended_model(summary, df) is None


@pytest.mark.unit
def test_cached_answers_are_not_reported_as_measured_latency():
    df = _results([0.9] * 4, [0.5] * 4)
    df["cached"] = [True, True, False, False] + [True] * 4
    df.loc[df.index[2:4], "latency_s"] = 3.0
    summary = discovery.model_summary(df).set_index("model")
    assert summary.loc["smollm2-135m-instruct", "timed"] == 2
    assert summary.loc["smollm2-135m-instruct", "latency_p50_s"] == 3.0
    assert summary.loc["gemma-3-270m", "timed"] == 0
    assert summary.loc["gemma-3-270m", "latency_p50_s"] is None or np.isnan(
        summary.loc["gemma-3-270m", "latency_p50_s"]
    )
    text = discovery.recommend(summary.reset_index(), discovery.leaderboard(df), df)
    assert "Recommended: `smollm2-135m-instruct`" in text and "median latency 3.00 s" in text


@pytest.mark.unit
def test_a_fully_cached_run_recommends_without_speed_figures():
    df = _results([0.9, 0.8] * 4, [0.5, 0.4] * 4)
    df["cached"] = True  # a re-run: every answer from the cache, nothing timed
    summary = discovery.model_summary(df)
    assert summary["latency_p50_s"].isna().all() and (summary["timed"] == 0).all()
    text = discovery.recommend(summary, discovery.leaderboard(df), df)
    assert (
        "Recommended: `smollm2-135m-instruct`" in text and "not measured (cached answers)" in text
    )
    discovery.log_headline(summary, df)
