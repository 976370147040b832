"""Agents evaluated on a task set: per task the final answer's correctness, the tool-call
metrics, forbidden calls, steps, loops and budgets, cost and latency, and for a failed task the
first step that departed from what the expected trajectory needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field

from .. import config, registry, tracking
from ..data import read_jsonl
from ..errors import DataError
from ..io import Schema, validate
from ..metrics import score
from . import trajectory

DEFAULT_TASKS = "chains/agent_tasks.jsonl"
# Whole words: many references are short ("4", "no", "OK"), found inside "14" or "not" otherwise.
CORRECTNESS = "contains_words"


class ExpectedCall(Schema):
    name: str
    arguments: dict[str, Any] | None = None  # None: any arguments


class AgentTask(Schema):
    """One line of an agent task file."""

    id: str = Field(min_length=1)
    input: str = Field(min_length=1)
    reference: str
    category: str = "task"
    expected_calls: list[ExpectedCall] = []
    order: Literal["strict", "any"] = "strict"
    forbidden: list[str] = []
    max_steps: int = Field(4, ge=1, le=20)
    gold_doc: str | None = None


def load_tasks(path: str | Path | None = None) -> list[AgentTask]:
    """The tasks of a JSONL file (default `datasets/chains/agent_tasks.jsonl`); a bad line, an
    unknown tool or a repeated id is an error naming the file and line."""
    path = Path(path) if path else config.datasets_dir() / DEFAULT_TASKS
    tools = set(registry.names("tool"))
    tasks: list[AgentTask] = []

    def check(row: dict[str, Any], where: str) -> None:
        t = validate(AgentTask, row, where, DataError)
        unknown = [c.name for c in t.expected_calls if c.name not in tools] + [
            f for f in t.forbidden if f not in tools
        ]
        if unknown:
            raise DataError(
                f"{where}: unknown tool {unknown[0]!r}; registered tools: {', '.join(sorted(tools))}"
            )
        tasks.append(t)

    read_jsonl(path, check=check)  # JSON, objects, unique ids, not empty: file:line errors
    tracking.current().log_dataset(path)
    return tasks


def _expected(task: AgentTask) -> list[dict[str, Any]]:
    return [c.model_dump() for c in task.expected_calls]


def attribution(task: AgentTask, run, correct: bool) -> tuple[int | None, str]:
    """(1-based step, reason) of the first step that departed from what the task needed;
    (None, "") when the task passed. The reason starts with its kind, up to the first colon:
    retrieval missed the gold document, forbidden tool called, tool where none was needed,
    extra call, wrong tool, wrong arguments, tool failed, guard blocked the request, stopped
    without an answer, missing call, answer ignored the retrieved context / the tool results,
    wrong answer. `run`: an `AgentRun` or a chain's `ChainRun`."""
    retrieval = _retrieval(task, run)
    found = _calls(task, run, correct)
    if retrieval and (found[0] is None or retrieval[0] < found[0]):
        return retrieval
    return found


def _retrieval(task: AgentTask, run) -> tuple[int, str] | None:
    """The first retrieval step of a chain that missed the task's gold document."""
    if not task.gold_doc:
        return None
    for n, s in enumerate(run.steps, 1):
        if s.kind == "retrieve" and not any(c.startswith(f"{task.gold_doc}#") for c in s.output):
            return n, f"retrieval missed the gold document: {task.gold_doc}"
    return None


def _calls(task: AgentTask, run, correct: bool) -> tuple[int | None, str]:
    expected = _expected(task)
    tool_steps = [(n, s) for n, s in enumerate(run.steps, 1) if s.kind in ("tool", "code")]
    remaining = list(expected)
    for j, call in enumerate(run.calls):
        n = tool_steps[j][0] if j < len(tool_steps) else len(run.steps)
        if call["name"] in task.forbidden:
            return n, f"forbidden tool called: {call['name']}"
        if task.order == "strict":
            want = expected[j] if j < len(expected) else None
        else:
            want = next((c for c in remaining if c["name"] == call["name"]), None)
        if not expected:
            return n, f"tool where none was needed: {call['name']}"
        if want is None:
            return n, f"extra call: {call['name']} beyond the expected ones"
        if want["name"] != call["name"]:
            return n, f"wrong tool: {call['name']} where {want['name']} was expected"
        if want["arguments"] is not None and want["arguments"] != call["arguments"]:
            return n, (
                f"wrong arguments: {call['name']} {json.dumps(call['arguments'])} "
                f"where {json.dumps(want['arguments'])} was expected"
            )
        if want in remaining:
            remaining.remove(want)
        step = tool_steps[j][1] if j < len(tool_steps) else None
        if step is not None and step.error:
            return n, f"tool failed: {call['name']}: {step.error}"
        missed = task.gold_doc and f'"{task.gold_doc}#' not in str(step.output if step else "")
        if step is not None and call["name"] == "kb_search" and missed:
            return n, f"retrieval missed the gold document: {task.gold_doc}"
    if run.stopped == "blocked":
        return len(run.steps), "guard blocked the request"
    if run.stopped != "answer":
        return len(run.steps), f"stopped without an answer: {run.stopped}"
    if remaining:
        return len(run.steps), f"missing call: {remaining[0]['name']}"
    if not correct:
        if any(s.kind == "retrieve" for s in run.steps):
            return len(run.steps), "answer ignored the retrieved context"
        if run.calls:
            return len(run.steps), "answer ignored the tool results"
        return len(run.steps), "wrong answer"
    return None, ""


def evaluate(chain, tasks: list[AgentTask]) -> tuple[pd.DataFrame, list]:
    """Run `chain` (a loaded `Chain`) on every task, each within its step budget; one row per
    task with every metric, and the runs (trajectories)."""
    from .runner import run_chain

    runs = run_chain(chain, [t.input for t in tasks], budgets=[t.max_steps for t in tasks])
    correct = [
        r.value >= 1.0
        for r in score(CORRECTNESS, [run.answer for run in runs], [t.reference for t in tasks])
    ]
    rows = []
    for task, run, ok in zip(tasks, runs, correct, strict=True):
        expected = _expected(task)
        strict = task.order == "strict"
        forbidden = trajectory.forbidden_calls(run.calls, task.forbidden)
        accuracy = trajectory.tool_call_accuracy(run.calls, expected, strict)
        step, reason = attribution(task, run, ok)
        model_steps = [s for s in run.steps if s.kind in ("model", "prompt")]
        tool_steps = [s for s in run.steps if s.kind in ("tool", "code")]
        rows.append(
            {
                "id": task.id,
                "chain": chain.spec.name,
                "category": task.category,
                "correct": ok,
                "tool_call_accuracy": accuracy,
                "tool_call_f1": trajectory.tool_call_f1(run.calls, expected),
                "argument_exact_match": trajectory.argument_exact_match(run.calls, expected),
                "forbidden_calls": forbidden,
                "passed": ok and accuracy == 1.0 and forbidden == 0,
                "steps": len(model_steps),
                "tool_calls": len(run.calls),
                "stopped": run.stopped,
                "loop": run.stopped == "loop",
                "over_budget": run.stopped == "budget",
                "truncated": run.stopped == "truncated",
                "unparsed": run.unparsed,
                "tool_errors": sum(bool(s.error) for s in tool_steps),
                "model_errors": sum(bool(s.error) for s in model_steps)
                - run.unparsed
                - (run.stopped == "truncated"),
                "latency_s": sum(s.latency_s for s in run.steps),
                # Latency is measured only where no model step came from the cache.
                "cached": any(s.cached for s in model_steps),
                "model_latency_s": sum(s.latency_s for s in model_steps),
                "tool_latency_s": sum(s.latency_s for s in tool_steps),
                "tokens": sum(s.tokens for s in run.steps),
                "cost_usd": sum(s.cost_usd for s in run.steps),
                "failed_step": step,
                "failure": reason,
                "answer": run.answer,
                "input": task.input,
                "version": chain.version,
                "reference": task.reference,
                "trace_id": run.trace_id,
            }
        )
    return pd.DataFrame(rows), runs
