"""Tool-call metrics over an agent's trajectory against the expected calls.

A call is `{"name": str, "arguments": dict}`. `tool_call_accuracy` is ragas' rule-based
`ToolCallAccuracy` (sequence alignment times the mean argument match, arguments compared as
strings, a coverage penalty when calls are missing); the tests check it agrees with ragas on a
table of cases. `tool_call_f1` is ragas' `ToolCallF1` (calls as sets of name and arguments),
except that no call expected and none made scores 1, not 0: a task that needs no tool was done
right. An expected call whose `arguments` is None accepts any arguments (a knowledge-base
query cannot be expected word for word); ragas has no such case.
"""

from __future__ import annotations

from typing import Any

Call = dict[str, Any]


def _key(call: Call) -> tuple:
    args = call.get("arguments") or {}
    return (call["name"], *[x for k in sorted(args) for x in (k, str(args[k]))])


def _argument_match(predicted: dict[str, Any], reference: dict[str, Any] | None) -> float:
    if reference is None:
        return 1.0  # any arguments
    if not reference and not predicted:
        return 1.0
    if not reference:
        return 0.0
    hits = sum(k in predicted and str(predicted[k]) == str(v) for k, v in reference.items())
    return hits / len(reference)


def tool_call_accuracy(
    predicted: list[Call], reference: list[Call], strict_order: bool = True
) -> float:
    """1 when the calls and their arguments are the expected ones (in order, when strict)."""
    if not predicted and not reference:
        return 1.0
    if not predicted or not reference:
        return 0.0
    if not strict_order:
        predicted, reference = sorted(predicted, key=_key), sorted(reference, key=_key)
    names_p, names_r = [c["name"] for c in predicted], [c["name"] for c in reference]
    aligned = names_p == names_r if strict_order else sorted(names_p) == sorted(names_r)
    score = sum(
        _argument_match(p.get("arguments") or {}, r.get("arguments"))
        for r, p in zip(reference, predicted, strict=False)
        if r["name"] == p["name"]
    ) / len(reference)
    compared = min(len(predicted), len(reference))
    if compared < len(reference):
        score *= compared / len(reference)
    return score * int(aligned)


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return frozenset((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


def _keys(calls: list[Call], reference: list[Call]) -> list[tuple]:
    """(name, arguments) per call; arguments left out for a tool expected with any."""
    wild = {c["name"] for c in reference if c.get("arguments", {}) is None}
    return [
        (c["name"], None if c["name"] in wild else _hashable(c.get("arguments") or {}))
        for c in calls
    ]


def tool_call_f1(predicted: list[Call], reference: list[Call]) -> float:
    """F1 of the (name, arguments) calls made against those expected, in any order."""
    made, expected = set(_keys(predicted, reference)), set(_keys(reference, reference))
    if not made and not expected:
        return 1.0
    tp = len(made & expected)
    precision = tp / len(made) if made else 0.0
    recall = tp / len(expected) if expected else 0.0
    return round(2 * precision * recall / (precision + recall), 4) if tp else 0.0


def argument_exact_match(predicted: list[Call], reference: list[Call]) -> float | None:
    """Share of the expected calls made with exactly the expected arguments (any order);
    None when no call is expected."""
    if not reference:
        return None
    made = _keys(predicted, reference)
    hits = 0
    for key in _keys(reference, reference):
        if key in made:
            made.remove(key)
            hits += 1
    return hits / len(reference)


def forbidden_calls(predicted: list[Call], forbidden: list[str]) -> int:
    """How many calls went to a tool the task forbids."""
    return sum(c["name"] in set(forbidden) for c in predicted)
