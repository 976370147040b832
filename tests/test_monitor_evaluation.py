"""workbench.monitor.evaluation: reference-free checks read from traces, per window with
intervals, and change tests against a reference window."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from workbench.errors import DataError
from workbench.monitor import evaluation
from workbench.trace import TraceStore

CONTEXT = "Annual leave: every employee gets 25 days of paid annual leave per calendar year."


def _request(
    store: TraceStore,
    n: int,
    day: int,
    answer: str,
    *,
    blocked: str = "none",
    latency_s: float = 1.0,
    error: bool = False,
    thumbs: int | None = None,
) -> None:
    trace_id, start = f"{n:032x}", 1_000_000_000 * n
    messages = json.dumps([{"role": "user", "content": f"Context:\n{CONTEXT}\n\nQuestion: leave?"}])
    store.write(
        [
            {
                "trace_id": trace_id,
                "span_id": f"{n:08x}00000001",
                "parent_id": None,
                "name": "chain hr-assistant",
                "kind": "SERVER",
                "start_ns": start,
                "end_ns": start + int(latency_s * 1e9),
                "status": "ERROR" if error else "UNSET",
                "status_message": None,
                "attributes": {
                    "workbench.request.input": "How much leave?",
                    "workbench.request.id": f"r{n}",
                    "workbench.request.timestamp": f"2026-11-0{day}T10:00:00Z",
                    "workbench.response.output": answer,
                },
                "events": [],
                "resource": {},
            },
            {
                "trace_id": trace_id,
                "span_id": f"{n:08x}00000002",
                "parent_id": f"{n:08x}00000001",
                "name": "chat m",
                "kind": "CLIENT",
                "start_ns": start,
                "end_ns": start + 1,
                "status": "UNSET",
                "status_message": None,
                "attributes": {
                    "gen_ai.input.messages": messages,
                    "gen_ai.usage.input_tokens": 50,
                    "gen_ai.usage.output_tokens": 9,
                    "workbench.cost_usd": 0.0,
                },
                "events": [],
                "resource": {},
            },
            {
                "trace_id": trace_id,
                "span_id": f"{n:08x}00000003",
                "parent_id": f"{n:08x}00000001",
                "name": "guard",
                "kind": "INTERNAL",
                "start_ns": start,
                "end_ns": start,
                "status": "UNSET",
                "status_message": None,
                "attributes": {"workbench.guard.blocked": blocked},
                "events": [],
                "resource": {},
            },
        ]
    )
    if thumbs:
        store.add_feedback(trace_id, thumbs=thumbs)


@pytest.mark.unit
def test_checks_per_request_and_per_window_with_a_change_test(tmp_path):
    store = TraceStore(tmp_path / "t.sqlite")
    for i in range(30):  # day 1: grounded answers, fast
        _request(
            store,
            i + 1,
            2,
            "Every employee gets 25 days of paid annual leave.",
            thumbs=1 if i < 3 else None,
        )
    for i in range(30):  # day 2: a third abstain, a third are blocked, slower, some errors
        answer = [
            "I don't know.",
            "I can't help with that request.",
            "Bananas grow quickly somewhere.",
        ][i % 3]
        _request(
            store,
            100 + i,
            3,
            answer,
            blocked="input" if i % 3 == 1 else "none",
            latency_s=3.0,
            error=i == 0,
            thumbs=-1 if i < 6 else None,
        )
    df = evaluation.requests(store)
    assert len(df) == 60 and df.loc[0, "grounded"] and df.loc[0, "input_tokens"] == 50
    day2 = df[df.time.dt.day == 3]
    assert day2.abstained.sum() == 10 and day2.blocked.sum() == 10 and day2.refused.sum() == 10
    assert day2.grounded.dropna().sum() == 0  # the unrelated answers are not grounded
    table = evaluation.window_table(df, "1d")
    assert list(table.requests) == [30, 30]
    row = table.iloc[1]
    assert row.abstained == pytest.approx(1 / 3) and row.abstained_low < 1 / 3 < row.abstained_high
    assert row.negative_feedback == 1.0 and row.feedback_rate == pytest.approx(0.2)
    assert row.latency_p95_s == pytest.approx(3.0) and row.error_n == 30
    changes = evaluation.changes(day2, df[df.time.dt.day == 2]).set_index("metric")
    assert (
        changes.loc["abstained", "p_value"] < 0.001 and changes.loc["latency_s", "p_value"] < 0.001
    )
    assert changes.loc["error", "p_value"] == pytest.approx(1.0)


@pytest.mark.unit
def test_window_quality_changes_and_rules_that_need_the_change_test(tmp_path):
    from workbench.monitor import alerts

    reference = pd.DataFrame({"refused": [False] * 40, "error": [False] * 40})
    few = pd.DataFrame({"refused": [True, False, False], "error": [False] * 3})
    many = pd.DataFrame({"refused": [True] * 10 + [False] * 20, "error": [False] * 30})
    q_few, q_many = (evaluation.window_quality(x, reference) for x in (few, many))
    assert q_few["refused_change"] == pytest.approx(1 / 3) and q_few["refused_change_p"] > 0.05
    assert q_many["refused_rate"] == pytest.approx(1 / 3) and q_many["refused_change_p"] < 0.001
    assert q_many["grounded_rate"] is None and q_many["evaluated"] == 30  # not measured: None
    rules_file = tmp_path / "alerts.yaml"
    rules_file.write_text(
        "alerts:\n  - {name: refusals up, metric: refused_change, op: '>', threshold: 0.1,"
        " p_below: 0.05}\n"
    )
    rules, _ = alerts.load_rules(rules_file)
    assert alerts.evaluate(rules, "w", q_few, []) == []  # one refusal in three: chance
    [fired] = alerts.evaluate(rules, "w", q_many, [], {"refused": ["trace 1: why?"]})
    assert fired["p_value"] < 0.001 and fired["examples"] == ["trace 1: why?"]
    rules_file.write_text(
        "alerts:\n  - {name: x, metric: mmd_p, op: '<', threshold: 0.1, p_below: 0.05}\n"
    )
    with pytest.raises(DataError, match=r"alerts\[0\] \(x\): p_below applies to a \*_change"):
        alerts.load_rules(rules_file)


@pytest.mark.integration
def test_monitor_reads_trace_stores_and_alerts_on_their_quality(tmp_path):
    from workbench.monitor import runner

    reference, current = TraceStore(tmp_path / "ref.sqlite"), TraceStore(tmp_path / "cur.sqlite")
    for i in range(60):
        _request(reference, i + 1, 2, "Every employee gets 25 days of paid annual leave.")
    answers = [
        "You get 25 days of leave.",  # grounded in the context
        "I can't help with that request.",  # a refusal: nothing to ground
        "Bananas grow quickly somewhere.",  # not grounded
    ]
    for i in range(30):
        _request(current, 200 + i, 3, answers[i % 3])
    folder, record = runner.run(reference.path, current.path, root=tmp_path / "reports")
    [alert] = [a for a in record["alerts"] if a["alert"] == "refusal rate up"]
    assert alert["value"] == pytest.approx(1 / 3) and alert["p_value"] < 0.001
    assert alert["examples"][0].startswith(f"trace {201:032x}: How much leave?")
    [less] = [a for a in record["alerts"] if a["alert"] == "answers less grounded"]
    assert less["value"] == pytest.approx(-0.5)  # refusals left out: 10 of 20 answers grounded
    assert less["examples"][0].startswith(f"trace {202:032x}")  # an ungrounded answer
    [window] = [json.loads(x) for x in (folder / "windows.jsonl").read_text().splitlines()]
    assert window["evaluated"] == 30 and window["grounded_change"] is not None


@pytest.mark.integration
def test_an_optional_judge_scores_answers_and_counts_parse_failures(tmp_path, datasets_copy):
    from conftest import add_catalog_entry, fake_model_entry
    from fake_openai import FakeOpenAIServer

    store = TraceStore(tmp_path / "t.sqlite")
    for i in range(4):
        _request(store, i + 1, 2, "Every employee gets 25 days of paid annual leave.")
    df = evaluation.requests(store)
    assert df.context.str.contains("25 days").all()
    with FakeOpenAIServer(default='say:{"score": 4, "reason": "supported"}') as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("judge", server.base_url))
        scored = evaluation.judged(df, "judge")
    assert (scored.judge_score == 0.75).all() and not scored.judge_parse_failure.any()
    with FakeOpenAIServer(default="say:Looks fine to me.") as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("judge2", server.base_url))
        unparsed = evaluation.judged(df, "judge2")
    assert unparsed.judge_score.isna().all() and unparsed.judge_parse_failure.all()
    table = evaluation.window_table(unparsed, "1d")
    assert table.loc[0, "judge_parse_failures"] == 4 and table.loc[0, "judge_score_n"] == 0


@pytest.mark.unit
def test_rules_no_window_measured_are_named_not_taken_as_clear(tmp_path):
    from workbench.monitor import alerts

    rules_file = tmp_path / "alerts.yaml"
    rules_file.write_text(
        "alerts:\n  - {name: refusals up, metric: refused_change, op: '>', threshold: 0.1}\n"
        "  - {name: drift, metric: mmd_p, op: '<', threshold: 0.01}\n"
    )
    rules, _ = alerts.load_rules(rules_file)
    windows = [{"refused_change": None, "mmd_p": 0.5}, {"refused_change": None, "mmd_p": None}]
    assert alerts.unmeasured(rules, windows) == [
        "rule 'refusals up' (refused_change) was not measured in any window: no request was "
        "evaluated (no traces or logged outputs)"
    ]
    windows[1]["evaluated"] = 1  # evaluated, but one request gives no change to measure
    assert alerts.unmeasured(rules, windows) == [
        "rule 'refusals up' (refused_change) was not measured in any window: 1 request(s) were "
        "evaluated, too few to give it a value in the reference window and in another window "
        "(replay more requests per window)"
    ]


@pytest.mark.integration
def test_the_reference_window_is_not_tested_against_itself():
    from workbench import config
    from workbench.monitor import alerts, runner, traffic

    rows = traffic.read_log(config.datasets_dir() / "traffic" / "hr_assistant_log.jsonl")
    windows = traffic.windows(rows, "1d")[:2]
    analysed, _, _ = runner.analyse(windows[0][1], windows, alerts.load_rules()[0])
    assert [w["verdict"] for w in analysed] == ["reference", "no detectable drift"]
    assert analysed[0]["classifier_auc"] is None and analysed[0]["tokens_mean"] > 0
    assert analysed[1]["classifier_auc"] is not None
