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


def test_errors_are_counted_not_averaged_in():
    board = discovery.leaderboard(_results([1.0] * 10, [0.5] * 10, errors_b=3))
    gemma = board[board.model == "gemma-3-270m"].iloc[0]
    assert gemma.errors == 3 and gemma.n == 10 and gemma.quality == 0.5


def test_pareto_front():
    df = pd.DataFrame({"quality": [0.9, 0.5, 0.4, 0.95], "latency": [2.0, 1.0, 3.0, 5.0]})
    assert discovery.pareto_front(df, "latency") == [True, True, False, True]


def test_recommendation_separates_clear_winner():
    df = _results([0.9, 1.0] * 10, [0.1, 0.0] * 10)
    summary = discovery.model_summary(df)
    text = discovery.recommend(summary, discovery.leaderboard(df))
    assert "Recommended: `smollm2-135m-instruct`" in text and "clearly ahead" in text


def test_recommendation_admits_when_data_cannot_separate():
    rng = np.random.default_rng(0)
    df = _results(list(rng.uniform(0, 1, 8)), list(rng.uniform(0, 1, 8)))
    summary = discovery.model_summary(df)
    assert "cannot separate" in discovery.recommend(summary, discovery.leaderboard(df))


def test_assert_usable_fails_when_every_call_failed():
    df = _results([], [], errors_b=2)
    with pytest.raises(RuntimeError, match="every one of 2 calls failed"):
        discovery.assert_usable(df)
