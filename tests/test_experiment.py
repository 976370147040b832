"""workbench.experiment: paired statistics find real differences and only real ones."""

import numpy as np
import pandas as pd
import pytest

from workbench import experiment


def _grid(a_scores, b_scores, metric="m"):
    rows = []
    for variant, scores in [("A", a_scores), ("B", b_scores)]:
        for i, s in enumerate(scores):
            rows.append(
                {
                    "variant": variant,
                    "version": variant.lower(),
                    "model": "m1",
                    "case_id": f"c{i}",
                    "repeat": 0,
                    "input": f"q{i}",
                    "output": f"{variant}{i}",
                    "reference": "r",
                    "latency_s": 1.0,
                    "prompt_tokens": 5,
                    "completion_tokens": 3,
                    "cost_usd": 0.0,
                    "cached": False,
                    "error": None,
                    metric: s,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.unit
def test_paired_test_finds_a_known_improvement():
    rng = np.random.default_rng(7)
    a = rng.uniform(0, 0.6, 60)
    b = a.copy()
    improved = rng.choice(60, size=24, replace=False)  # 40 % of cases strictly better
    b[improved] += 0.3
    comp = experiment.compare_to_baseline(_grid(a, b), "A", ["m"], seed=1)
    row = comp.iloc[0]
    assert row["verdict"] == "better" and row["p_value"] < 0.01
    assert row["diff"] == pytest.approx(0.3 * 24 / 60)
    assert row["diff_ci_low"] > 0 and row["better"] == 24 and row["worse"] == 0


@pytest.mark.unit
def test_identical_variants_are_not_separated():
    a = np.random.default_rng(3).uniform(0, 1, 40)
    row = experiment.compare_to_baseline(_grid(a, a.copy()), "A", ["m"]).iloc[0]
    assert (
        row["verdict"] == "no detectable difference" and row["p_value"] == 1.0 and row["diff"] == 0
    )


@pytest.mark.unit
def test_pure_noise_is_not_called_a_difference():
    rng = np.random.default_rng(11)
    a = rng.uniform(0, 1, 40)
    b = np.clip(a + rng.normal(0, 0.05, 40), 0, 1)
    row = experiment.compare_to_baseline(_grid(a, b), "A", ["m"], seed=0).iloc[0]
    assert (
        row["verdict"] == "no detectable difference"
        and row["diff_ci_low"] < 0 < row["diff_ci_high"]
    )


@pytest.mark.unit
def test_flipped_cases_and_regressions():
    a = np.array([0.0, 1.0, 0.5, 0.5])
    b = np.array([1.0, 0.0, 0.6, 0.5])
    df = _grid(a, b)
    flipped = experiment.flipped_cases(df, "A", "B", "m", threshold=0.25)
    assert dict(zip(flipped.case_id, flipped.direction, strict=True)) == {
        "c1": "regressed",
        "c0": "improved",
    }
    assert set(flipped.columns) >= {"output_baseline", "output_variant", "reference"}
    earlier = _grid(a, a)
    regressed = experiment.regressions(df, earlier, ["m"], threshold=0.25)
    assert list(zip(regressed.variant, regressed.case_id, strict=True)) == [("B", "c1")]


@pytest.mark.unit
def test_summary_matrix_and_recommendation():
    a = np.full(30, 0.2)
    b = a + np.r_[np.full(20, 0.5), np.zeros(10)]
    df = _grid(a, b)
    summary = experiment.variant_summary(df, ["m"])
    assert summary.set_index("variant").loc["B", "m"] > summary.set_index("variant").loc["A", "m"]
    assert "[" in experiment.matrix(summary, ["m"]).loc[("A", "m1"), "m"]
    comp = experiment.compare_to_baseline(df, "A", ["m"])
    assert "Adopt `B`" in experiment.recommend(summary, comp, "A", "m")
    same = experiment.compare_to_baseline(_grid(a, a), "A", ["m"])
    assert "cannot separate" in experiment.recommend(summary, same, "A", "m")


@pytest.mark.unit
def test_failed_calls_are_not_paired():
    df = _grid([0.1, 0.2, 0.3], [0.2, 0.3, 0.4])
    df.loc[(df.variant == "B") & (df.case_id == "c2"), ["m", "error"]] = [np.nan, "HTTP 500"]
    row = experiment.compare_to_baseline(df, "A", ["m"]).iloc[0]
    assert row["n_pairs"] == 2
