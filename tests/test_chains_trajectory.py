"""workbench.chains.trajectory: tool-call metrics, checked against ragas' own implementation."""

from __future__ import annotations

import asyncio
import warnings

import pytest

from workbench.chains import trajectory


def _call(name: str, **arguments) -> dict:
    return {"name": name, "arguments": arguments}


LB = _call("leave_balance", employee="E1003")
KB = _call("kb_search", query="carry over leave")
CALC = _call("calculator", expression="30 - 5")

# (predicted, reference, strict order)
CASES = [
    ([LB], [LB], True),
    ([LB, CALC], [LB, CALC], True),
    ([CALC, LB], [LB, CALC], True),  # wrong order, strict
    ([CALC, LB], [LB, CALC], False),  # wrong order, any order allowed
    ([_call("leave_balance", employee="Chen Wei")], [LB], True),  # wrong argument
    ([LB], [LB, CALC], True),  # a call missing
    ([LB, CALC, KB], [LB, CALC], True),  # an extra call
    ([KB], [LB], True),  # wrong tool
    ([], [LB], True),  # no call made
    ([], [], True),  # none expected, none made
    ([LB], [], True),  # none expected, one made
    ([_call("calculator", expression=30)], [_call("calculator", expression="30")], True),
    (
        [_call("days_between", start="2026-01-01", end="2026-02-01", extra=1)],
        [_call("days_between", start="2026-01-01", end="2026-02-01")],
        True,
    ),
    ([_call("add_days", date="2026-12-20")], [_call("add_days", date="2026-12-20", days=14)], True),
]


def _ragas(predicted, reference, strict) -> tuple[float, float]:
    from ragas.dataset_schema import MultiTurnSample
    from ragas.messages import AIMessage, HumanMessage, ToolCall
    from ragas.metrics import ToolCallAccuracy, ToolCallF1

    def calls(cs):
        return [ToolCall(name=c["name"], args=c["arguments"]) for c in cs]

    sample = MultiTurnSample(
        user_input=[HumanMessage(content="q"), AIMessage(content="", tool_calls=calls(predicted))],
        reference_tool_calls=calls(reference),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ragas warns on length mismatches it then scores
        accuracy = asyncio.run(
            ToolCallAccuracy(strict_order=strict)._multi_turn_ascore(sample, None)
        )
        f1 = asyncio.run(ToolCallF1()._multi_turn_ascore(sample, None))
    return accuracy, f1


@pytest.mark.unit
@pytest.mark.parametrize(("predicted", "reference", "strict"), CASES)
def test_tool_call_accuracy_and_f1_agree_with_ragas(predicted, reference, strict):
    accuracy, f1 = _ragas(predicted, reference, strict)
    assert trajectory.tool_call_accuracy(predicted, reference, strict) == pytest.approx(accuracy)
    if predicted or reference:
        assert trajectory.tool_call_f1(predicted, reference) == pytest.approx(f1)
    else:  # the one deliberate difference: a task needing no tool, done without one
        assert f1 == 0.0 and trajectory.tool_call_f1(predicted, reference) == 1.0


@pytest.mark.unit
def test_argument_exact_match_and_forbidden_calls():
    assert trajectory.argument_exact_match([CALC, LB], [LB, CALC]) == 1.0
    assert trajectory.argument_exact_match([LB, LB], [LB, CALC]) == 0.5
    assert trajectory.argument_exact_match([LB], []) is None
    assert trajectory.forbidden_calls([LB, KB, KB], ["kb_search"]) == 2


@pytest.mark.unit
def test_an_expected_call_without_arguments_accepts_any():
    any_kb = {"name": "kb_search", "arguments": None}
    assert trajectory.tool_call_accuracy([KB], [any_kb]) == 1.0
    assert trajectory.tool_call_f1([KB, LB], [any_kb, LB]) == 1.0
    assert trajectory.argument_exact_match([KB], [any_kb]) == 1.0
    assert trajectory.tool_call_accuracy([LB], [any_kb]) == 0.0
