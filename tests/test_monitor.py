"""workbench.monitor: each drift test on synthetic data with a known shift and with none, "not
enough data" for small windows, Benjamini-Hochberg, and a window of real text."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.monitor import compare, stats, text, traffic


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.unit
def test_ks_finds_a_length_shift_and_not_a_resample():
    rng = np.random.default_rng(0)
    ref = rng.normal(50, 10, 300)
    assert stats.ks(ref, rng.normal(80, 10, 200), "characters").p_value < 1e-6
    assert stats.ks(ref, rng.normal(50, 10, 200), "characters").p_value > 0.01


@pytest.mark.unit
def test_psi_grades_shifts():
    rng = np.random.default_rng(1)
    ref = rng.normal(0, 1, 1000)
    assert stats.psi(ref, rng.normal(0, 1, 1000), "x").note == "stable"
    assert stats.psi(ref, rng.normal(1.5, 1, 1000), "x").note == "major shift"


@pytest.mark.unit
def test_chi2_on_categories_and_cramers_v():
    ref = ["en"] * 95 + ["fr"] * 5
    same = stats.chi2(ref, ["en"] * 47 + ["fr"] * 3, "language")
    shifted = stats.chi2(ref, ["en"] * 25 + ["de"] * 25, "language")
    assert same.p_value > 0.05 and shifted.p_value < 1e-6 and shifted.effect > 0.5


@pytest.mark.unit
def test_mmd_detects_a_mean_shift_and_is_calibrated_without_one():
    rng = np.random.default_rng(2)
    ref = _unit(rng.normal(0, 1, (200, 32)))
    shifted = _unit(rng.normal(0, 1, (150, 32)) + 0.6 * np.eye(32)[0])
    assert stats.mmd(ref, shifted, n_permutations=200).p_value < 0.01
    # under no shift the permutation p-value is roughly uniform: few fall below 0.05
    ps = [
        stats.mmd(ref, _unit(rng.normal(0, 1, (150, 32))), n_permutations=100, seed=s).p_value
        for s in range(20)
    ]
    assert sum(p < 0.05 for p in ps) <= 3


@pytest.mark.unit
def test_classifier_auc_separates_only_a_real_shift():
    rng = np.random.default_rng(3)
    ref = rng.normal(0, 1, (120, 8))
    shifted, proba = stats.classifier(ref, rng.normal(0, 1, (80, 8)) + 1.0, n_permutations=20)
    same, _ = stats.classifier(ref, rng.normal(0, 1, (80, 8)), n_permutations=20)
    assert shifted.statistic > 0.8 and shifted.p_value <= 0.05 and len(proba) == 80
    assert 0.3 < same.statistic < 0.7 and same.p_value > 0.05


@pytest.mark.unit
def test_small_windows_say_not_enough_data_never_no_drift():
    for result in (
        stats.ks([1.0] * 5, [2.0] * 50, "x"),
        stats.chi2(["a"] * 5, ["b"] * 50, "x"),
        stats.mmd(np.ones((5, 3)), np.ones((50, 3))),
        stats.classifier(np.ones((50, 3)), np.ones((5, 3)))[0],
    ):
        assert result.note == "not enough data" and result.p_value is None


@pytest.mark.unit
def test_benjamini_hochberg_skips_tests_without_p_values():
    results = [
        stats.Result("a", "f", 30, 30, p_value=0.01),
        stats.Result("b", "f", 30, 30),
        stats.Result("c", "f", 30, 30, p_value=0.04),
    ]
    assert stats.adjust(results) == [pytest.approx(0.02), None, pytest.approx(0.04)]


@pytest.mark.unit
def test_separating_ngrams_name_what_is_new():
    ref = [f"how many leave days do I have in {m}" for m in ("may", "june", "july")] * 10
    cur = [f"what is the canteen menu on {d}" for d in ("monday", "friday")] * 10
    top = [g["ngram"] for g in text.separating_ngrams(ref, cur)]
    assert "canteen" in top and "leave" not in top


@pytest.mark.integration
def test_a_window_of_another_language_and_topic_drifts_and_a_resample_does_not():
    base = [
        "How many days of annual leave do I have left?",
        "When is payday this month?",
        "How do I claim back a train ticket?",
        "My laptop will not start, who can help?",
        "Can I work from home on Fridays?",
        "Where do I find my payslip?",
    ]
    reference = [f"{q} (ref {i})" for i in range(10) for q in base]
    same = [f"{q} (now {i})" for i in range(6) for q in base]
    french = [f"Combien de jours de congé me reste-t-il ? Merci ({i})" for i in range(20)] + [
        f"Le menu de la cantine est-il végétarien aujourd'hui ? ({i})" for i in range(20)
    ]
    stable = compare(reference, same, n_permutations=100, classifier_permutations=10)
    shifted = compare(reference, french, n_permutations=100, classifier_permutations=10)
    assert not stable.drifted, stable.table
    assert shifted.drifted and "language" in set(
        shifted.table.loc[shifted.table.verdict == "drift", "feature"]
    )
    assert len(shifted.uncovered) > len(stable.uncovered)
    assert shifted.verdict().startswith("drift: ")


@pytest.mark.unit
def test_request_logs_are_checked_line_by_line(tmp_path):
    from workbench.data import DataError
    from workbench.errors import ParameterError

    log = tmp_path / "log.jsonl"
    log.write_text('{"input": "a", "timestamp": "2026-11-02T08:00:00Z"}\n{oops\n')
    with pytest.raises(DataError, match=r"log.jsonl:2: not valid JSON"):
        traffic.read_log(log)
    log.write_text('{"input": "a"}\n{"text": "b"}\n')
    with pytest.raises(DataError, match=r"log.jsonl:2: missing field 'input'"):
        traffic.read_log(log)
    log.write_text('{"input": "a", "timestamp": "yesterday"}\n')
    with pytest.raises(DataError, match=r"log.jsonl:1: timestamp 'yesterday' is not ISO 8601"):
        traffic.read_log(log)
    with pytest.raises(ParameterError, match="window '1 day'"):
        traffic.parse_window("1 day")
    log.write_text(
        '{"input": "a", "timestamp": "2026-11-02T08:00:00Z"}\n'
        '{"input": "b", "timestamp": "2026-11-04T09:00:00Z"}\n'
    )
    sizes = [len(w) for _, w in traffic.windows(traffic.read_log(log), "1d")]
    assert sizes == [1, 0, 1]  # the empty day is kept, not skipped


@pytest.mark.unit
def test_the_shipped_log_is_what_its_script_writes():
    import importlib.util
    import json

    from workbench import config

    path = config.datasets_dir() / "traffic" / "make_traffic.py"
    spec = importlib.util.spec_from_file_location("make_traffic", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = (path.parent / "hr_assistant_log.jsonl").read_text(encoding="utf-8")
    assert shipped == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in module.rows())
    days = traffic.windows(traffic.read_log(path.parent / "hr_assistant_log.jsonl"), "1d")
    assert len(days) == 6 and all(len(w) >= 100 for _, w in days)


@pytest.mark.integration
def test_every_documented_shift_of_the_shipped_log_is_detected_and_the_clean_day_is_not():
    from workbench import config

    days = traffic.windows(
        traffic.read_log(config.datasets_dir() / "traffic" / "hr_assistant_log.jsonl"), "1d"
    )
    reference = [r["input"] for r in days[0][1]]
    for _, members in days[1:]:
        shifted = any(r["shift"] != "none" for r in members)
        found = compare(reference, [r["input"] for r in members])
        assert found.drifted == shifted, (members[0]["timestamp"], found.table)
