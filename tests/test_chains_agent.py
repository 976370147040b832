"""workbench.chains.agent: the tool-calling loop against a scripted test-double model (a
loopback server replying with a fixed sequence of tool calls), then the embedded model under
constrained decoding."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import add_catalog_entry, fake_model_entry
from fake_openai import FakeOpenAIServer

from workbench import trace
from workbench.chains import agent, trajectory

TOOLS = ["kb_search", "calculator", "days_between", "add_days", "leave_balance"]
_ids = itertools.count()


def _call(name: str, **arguments) -> str:
    """A scripted reply through the OpenAI tools API: one call."""
    return "toolcall:" + json.dumps([{"name": name, "arguments": arguments}])


def _scripted(datasets_copy, script: list[str], question: str, **kwargs) -> agent.AgentRun:
    """Run the agent once against a test double that replies `script` in order."""
    with FakeOpenAIServer(script=script, default="say:out of script") as server:
        model = f"scripted-{next(_ids)}"  # a catalog entry per script
        add_catalog_entry(datasets_copy, **fake_model_entry(model, server.base_url))
        [run] = agent.run_agents(model, [question], TOOLS, **kwargs)
        run.requests = server.requests  # what the model was shown, for the assertions
    return run


@pytest.mark.integration
def test_a_scripted_model_yields_the_expected_trajectory(datasets_copy, tmp_path):
    script = [
        _call("leave_balance", employee="E1003"),
        _call("calculator", expression="30 - 5"),
        "say:Chen Wei has 25 days left.",
    ]
    store = trace.enable(tmp_path / "t.sqlite")
    try:
        run = _scripted(datasets_copy, script, "How many days will Chen Wei have left after 5?")
    finally:
        trace.disable()
    assert run.stopped == "answer" and run.answer == "Chen Wei has 25 days left."
    assert [s.kind for s in run.steps] == ["model", "tool", "model", "tool", "model"]
    assert json.loads(run.steps[1].output)["annual_leave_left"] == 30
    assert run.steps[3].output == "25" and run.steps[3].error is None
    expected = [
        {"name": "leave_balance", "arguments": {"employee": "E1003"}},
        {"name": "calculator", "arguments": {"expression": "30 - 5"}},
    ]
    assert trajectory.tool_call_accuracy(run.calls, expected) == 1.0
    # the model saw each tool's result before its next turn, and the tools with their schemas
    result = run.requests[1]["messages"][-1]
    assert result["role"] == "tool" and result["tool_call_id"] == "call-0"
    assert "annual_leave_left" in result["content"]
    assert run.requests[1]["messages"][-2]["tool_calls"][0]["function"]["name"] == "leave_balance"
    tools = {t["function"]["name"]: t["function"] for t in run.requests[0]["tools"]}
    assert tools["days_between"]["parameters"]["required"] == ["start", "end"]
    [root] = store.tree(run.trace_id)
    names = [c["name"] for c in root["children"]]
    assert (
        root["name"] == "invoke_agent agent"
        and root["attributes"]["workbench.agent.stopped"] == "answer"
    )
    assert names.count("chat fake-model") == 3 and "execute_tool leave_balance" in names


@pytest.mark.integration
def test_loops_budgets_unparseable_replies_and_bad_arguments_are_recorded(datasets_copy):
    call = _call("leave_balance", employee="E1001")
    loop = _scripted(datasets_copy, [call, call], "Leave of E1001?")
    assert loop.stopped == "loop" and len(loop.calls) == 2 and loop.model_steps == 2
    budget = _scripted(
        datasets_copy,
        [call, _call("calculator", expression="1+1")],
        "Leave of E1001?",
        max_steps=2,
    )
    assert budget.stopped == "budget" and budget.answer == ""
    broken = 'toolcall:[{"name": "leave_balance", "arguments": "{employee: E1001"}]'
    unparsed = _scripted(datasets_copy, [broken], "Leave?")
    assert unparsed.stopped == "unparsed" and unparsed.unparsed == 1
    assert unparsed.steps[-1].error == "the reply is neither a tool call nor an answer"
    bad = _scripted(
        datasets_copy,
        [_call("days_between", start="soon", end="2026-03-01"), "say:I could not compute it."],
        "Days until March?",
    )  # fmt: skip # the two replies read as a script
    assert bad.stopped == "answer" and bad.steps[1].error.startswith("ToolArgumentError")
    assert "does not match" in bad.requests[1]["messages"][-1]["content"]  # the model is told


@pytest.mark.integration
def test_the_embedded_model_writes_only_parseable_calls_under_constrained_decoding():
    questions = [
        "How many days of annual leave does employee E1003 have left?",
        "How many days are there between 2026-03-01 and 2026-04-15?",
        "What is 27 + 3?",
    ]
    runs = agent.run_agents("smollm2-135m-instruct", questions, TOOLS, max_steps=2)
    assert all(r.unparsed == 0 for r in runs)
    tool_steps = [s for r in runs for s in r.steps if s.kind == "tool"]
    assert tool_steps  # it does call tools
    assert not any((s.error or "").startswith("ToolArgumentError") for s in tool_steps)
    assert {r.stopped for r in runs} <= {"answer", "budget", "loop", "truncated"}


@pytest.mark.integration
def test_an_in_process_model_refuses_the_tools_api_and_gets_a_schema_instead():
    from workbench.chains.tools import describe
    from workbench.llm import Request, generate_many

    [resp] = generate_many(
        "smollm2-135m-instruct",
        [Request.from_prompt("Leave of E1001?", tools=describe(["leave_balance"]))],
        progress=False,
        cache=False,
    )
    assert resp.error and "no tool-calling API in process" in resp.error
