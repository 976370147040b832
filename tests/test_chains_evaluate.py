"""workbench.chains.evaluate: the agent task file, and per-step attribution of failed tasks."""

from __future__ import annotations

import json

import pytest

from workbench.chains import evaluate
from workbench.chains.agent import AgentRun, Step
from workbench.errors import DataError


def _task(**fields) -> evaluate.AgentTask:
    base = {"id": "t", "input": "q", "reference": "20", "expected_calls": []}
    return evaluate.AgentTask(**{**base, **fields})


def _run(calls: list[tuple[str, dict, str, str | None]], stopped="answer", answer="20"):
    """An AgentRun with a model step before each tool step: (tool, arguments, output, error)."""
    run = AgentRun("q", answer=answer, stopped=stopped)
    for name, args, output, error in calls:
        run.steps += [Step("model", "m", "", ""), Step("tool", name, args, output, error=error)]
        run.calls.append({"name": name, "arguments": args})
    run.steps.append(Step("model", "m", "", answer))
    return run


LB = {"name": "leave_balance", "arguments": {"employee": "E1001"}}


@pytest.mark.unit
def test_the_shipped_task_set_loads_and_covers_every_category():
    tasks = evaluate.load_tasks()
    assert len(tasks) >= 40
    assert {t.category for t in tasks} == {"lookup", "multi", "no_tool", "forbidden"}
    assert all(t.forbidden for t in tasks if t.category == "forbidden")


@pytest.mark.unit
def test_bad_task_lines_are_errors_naming_file_and_line(tmp_path):
    path = tmp_path / "tasks.jsonl"
    good = {"id": "a", "input": "q", "reference": "r"}
    for lines, message in [
        (["{not json"], r"tasks.jsonl:1: not valid JSON"),
        (
            [good, {**good, "id": "b", "expected_calls": [{"name": "teleport"}]}],
            r"tasks.jsonl:2: unknown tool 'teleport'",
        ),
        ([good, good], r"tasks.jsonl:2: duplicate id 'a'"),
        ([{**good, "order": "sideways"}], r"tasks.jsonl:1"),
    ]:
        path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
        with pytest.raises(DataError, match=message):
            evaluate.load_tasks(path)


@pytest.mark.unit
def test_attribution_names_the_first_step_that_departed():
    task = _task(expected_calls=[LB, {"name": "calculator", "arguments": {"expression": "20 - 3"}}])
    cases = [
        (_run([("kb_search", {"query": "x"}, "[]", None)]), (2, "wrong tool: kb_search where leave_balance")),
        (_run([("leave_balance", {"employee": "E1002"}, "{}", None)]), (2, "wrong arguments: leave_balance")),
        (_run([("leave_balance", {"employee": "E1001"}, "", "ValueError: no employee")]), (2, "tool failed: leave_balance")),
        (_run([("leave_balance", {"employee": "E1001"}, "{}", None)]), (3, "missing call: calculator")),
        (_run([("leave_balance", {"employee": "E1001"}, "{}", None)], stopped="budget"), (3, "stopped without an answer: budget")),
    ]  # fmt: skip # one case per line reads as a table
    for run, (step, reason) in cases:
        got = evaluate.attribution(task, run, correct=False)
        assert got[0] == step and got[1].startswith(reason), got
    kb = _task(expected_calls=[{"name": "kb_search"}], gold_doc="annual-leave")
    missed = _run([("kb_search", {"query": "leave"}, '[{"id": "pension#f0"}]', None)])
    assert evaluate.attribution(kb, missed, False) == (
        2,
        "retrieval missed the gold document: annual-leave",
    )
    found = _run(
        [("kb_search", {"query": "leave"}, '[{"id": "annual-leave#f0"}]', None)], answer="3"
    )
    assert evaluate.attribution(kb, found, False) == (
        3,
        "answer ignored the tool results",
    )
    assert evaluate.attribution(kb, found, True) == (None, "")
    no_tool = _task(forbidden=["calculator"])
    assert evaluate.attribution(
        no_tool, _run([("calculator", {"expression": "2+2"}, "4", None)]), True
    )[1] == ("forbidden tool called: calculator")
    assert evaluate.attribution(
        _task(), _run([("calculator", {"expression": "2+2"}, "4", None)]), True
    )[1] == ("tool where none was needed: calculator")


@pytest.mark.unit
def test_the_shipped_task_file_is_what_its_script_writes(tmp_path, monkeypatch):
    import importlib.util

    from workbench import config

    script = config.datasets_dir() / "chains" / "make_agent_tasks.py"
    spec = importlib.util.spec_from_file_location("make_agent_tasks", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)  # the HR table was read at import
    module.main()
    shipped = (config.datasets_dir() / "chains" / "agent_tasks.jsonl").read_bytes()
    assert (tmp_path / "agent_tasks.jsonl").read_bytes() == shipped


@pytest.mark.integration
def test_chains_are_evaluated_on_tasks_with_attribution(datasets_copy):
    from conftest import add_catalog_entry, fake_model_entry
    from fake_openai import FakeOpenAIServer

    from workbench.chains import spec

    tasks = [
        _task(id="carry", input="How many days of leave can I carry over?", reference="5",
              expected_calls=[{"name": "kb_search"}], gold_doc="annual-leave"),
        _task(id="cards", input="What can I pay with the company card?", reference="27",
              gold_doc="annual-leave"),
    ]  # fmt: skip # one task per entry
    (datasets_copy / "chains" / "rag.yaml").write_text(
        "name: rag\nsteps:\n  - {type: retrieve, corpus: kb, k: 1}\n"
        "  - {type: prompt, template: rag-answer, model: double}\n"
    )
    with FakeOpenAIServer(default="say:Up to 5 days.") as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("double", server.base_url))
        table, runs = evaluate.evaluate(spec.load_chain("rag"), tasks)
    carry, cards = table.to_dict("records")
    assert carry["correct"] and carry["failure"] == "missing call: kb_search"
    assert carry["tool_call_accuracy"] == 0.0 and carry["steps"] == 1 and carry["chain"] == "rag"
    assert cards["failed_step"] == 1
    assert cards["failure"] == "retrieval missed the gold document: annual-leave"
    assert runs[0].steps[0].kind == "retrieve" and table["latency_s"].gt(0).all()
