"""workbench.judge: local judges cannot fail to parse; HTTP judge failures are counted, not dropped."""

import pandas as pd
import pytest
from conftest import add_catalog_entry, fake_model_entry
from fake_openai import FakeOpenAIServer

from workbench import judge, tracking

Q, A, R = ["What is 2+2?", "Capital of France?"], ["4", "Paris"], ["4", "Paris"]


@pytest.fixture
def fake(datasets_copy):
    with FakeOpenAIServer() as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("judge-http", server.base_url))
        yield server


@pytest.mark.unit
def test_tolerant_parsing():
    assert judge.parse_json_field('{"score": 4, "reason": "fine"}', "score", ["4", "5"]) == "4"
    assert judge.parse_json_field('Sure! ```json\n{"score": 5}\n```', "score", ["4", "5"]) == "5"
    assert judge.parse_json_field("score: 4 because...", "score", ["4"]) == "4"
    assert judge.parse_json_field("2. The score is 3.\n3. The reason", "score", ["3"]) == "3"
    assert judge.parse_json_field("I like it", "score", ["4"]) is None
    assert judge.parse_json_field("B", "winner", ["A", "B", "tie"]) == "B"


@pytest.mark.integration
def test_http_judge_malformed_json_is_counted_not_dropped(fake):
    fake.default = "say:I would say it is rather good"
    out = judge.rubric("judge-http", Q, A, R, parse_retries=2)
    assert len(out) == 2 and out["parse_failure"].all() and out["score"].isna().all()
    assert (out["raw"] == "I would say it is rather good").all()
    assert tracking.current().data["judges"]["rubric:judge-http"] == {
        "judged": 2,
        "parse_failures": 2,
        "errors": 0,
    }
    assert len(fake.requests) == 6  # each case asked three times (two retries) before giving up
    assert fake.requests[0]["response_format"]["type"] == "json_schema"


@pytest.mark.integration
def test_http_judge_retry_recovers_and_valid_json_parses(fake):
    fake.script = ["say:no idea", 'say:{"score": 4, "reason": "correct"}']
    fake.default = 'say:{"score": 2, "reason": "wrong"}'
    out = judge.rubric("judge-http", Q, A, R)
    assert not out["parse_failure"].any() and sorted(out["score"]) == [2, 4]
    assert set(out["reason"]) <= {"correct", "wrong"}


@pytest.mark.integration
def test_http_judge_falls_back_to_plain_text_when_structured_output_is_refused(fake):
    fake.script = ["400", "400"]
    fake.default = 'say:{"score": 5, "reason": "right"}'
    out = judge.rubric("judge-http", Q, A, R)
    assert list(out["score"]) == [5, 5] and "response_format" not in fake.requests[-1]


@pytest.mark.integration
def test_http_pairwise_counts_unparsed_orders(fake):
    fake.default = "say:both are fine"
    out = judge.pairwise("judge-http", Q, A, ["5", "Rome"], parse_retries=0)
    assert out["outcome"].isna().all() and out["parse_failure"].all()
    rates = judge.win_rates(out["outcome"])
    assert rates["n"] == 0 and rates["unparsed"] == 2


@pytest.mark.unit
def test_win_rates_from_outcomes():
    rates = judge.win_rates(pd.Series([1.0, 1.0, 0.5, 0.0]))
    assert (rates["win"], rates["tie"], rates["loss"]) == (0.5, 0.25, 0.25)
    assert rates["ci_low"] <= rates["preference"] == 0.625 <= rates["ci_high"]


@pytest.mark.integration
def test_local_judge_has_zero_parse_failures_by_construction():
    answers = ["4", "I have no idea, maybe a banana?"]
    out = judge.rubric("smollm2-135m-instruct", Q, answers, R)
    assert not out["parse_failure"].any() and out["score"].between(1, 5).all()
    assert out["reason"].str.len().gt(0).all()
    pair = judge.pairwise("smollm2-135m-instruct", Q, answers, ["5", "Paris"])
    assert pair["outcome"].notna().all()
    counts = tracking.current().data["judges"]
    assert counts["rubric:smollm2-135m-instruct"]["parse_failures"] == 0
    assert counts["pairwise:smollm2-135m-instruct"]["parse_failures"] == 0


@pytest.mark.unit
def test_a_judge_giving_every_answer_the_same_verdict_fails_its_check():
    check = judge.check_discrimination("rubric:j", [3, 3, 3, 3, 3, 3, 3, 3])
    assert not check["passed"] and "8 of 8 answers the same verdict" in check["problems"][0]
    assert any(
        "judge rubric:j cannot discriminate" in w for w in tracking.current().data["warnings"]
    )
    assert "⚠" in judge.discrimination_warning(check)


@pytest.mark.unit
def test_a_judge_that_picks_the_first_shown_answer_fails_its_check():
    check = judge.check_discrimination("pairwise:j", ["X", "Y"] * 5, picked_first=[True] * 10)
    assert not check["passed"] and "shown first in 100%" in check["problems"][0]


@pytest.mark.unit
def test_a_rubric_that_ignores_the_reference_metric_fails_and_a_good_one_passes():
    # The rubric gave low scores even to answers with token F1 = 1.0 (seen with the 135M judge).
    f1 = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.5, 0.5]
    bad = judge.check_discrimination(
        "rubric:bad", [1, 2, 1, 2, 2, 1, 1, 2][::-1], reference=f1, reference_name="token_f1"
    )
    assert not bad["passed"] and "does not agree with token_f1" in " ".join(bad["problems"])
    good = judge.check_discrimination(
        "rubric:good", [5, 5, 4, 1, 2, 1, 3, 3], reference=f1, reference_name="token_f1"
    )
    assert good["passed"] and good["agreement"] > 0.8
    table = judge.checks_table()
    assert list(table.index) == ["rubric:bad", "rubric:good"]


@pytest.mark.integration
def test_pairwise_vs_baseline_records_a_tie_only_judge_as_failing(fake):
    from workbench import experiment

    fake.default = 'say:{"winner": "A"}'  # always the first answer shown
    rows = [
        {
            "variant": v,
            "model": "m",
            "case_id": f"c{i}",
            "repeat": 0,
            "input": f"q{i}",
            "output": f"{v} answer {i}",
            "error": None,
        }
        for v in ("base", "new")
        for i in range(6)
    ]
    table = experiment.pairwise_vs_baseline(pd.DataFrame(rows), "base", "judge-http")
    assert table.iloc[0]["picked_first_shown"] == 1.0 and table.iloc[0]["tie"] == 1.0
    check = tracking.current().data["judge_checks"]["pairwise:judge-http"]
    assert not check["passed"]
    assert any("shown first" in p for p in check["problems"])
