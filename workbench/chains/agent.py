"""A tool-calling agent: the model either calls a tool or answers, step by step, within a step
budget and with loop detection; every step is recorded with its input, output, latency,
tokens, cost and error.

The model speaks JSON: `{"tool": NAME, "arguments": {...}}` or `{"answer": TEXT}`, asked for
with a JSON schema (`response_format`). A local model decodes under that schema (xgrammar), so
even the embedded 135M model only writes parseable calls with valid arguments; an HTTP model
gets the schema as structured output, and a reply that is still not a call or an answer is
counted (`unparsed`) and ends that task's run, never silently dropped. Several tasks advance in
lockstep, so each step is one batched generation.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from .. import registry, trace
from ..errors import ParameterError
from ..llm import Request, generate_many

SYSTEM = (
    "You are an HR assistant. Answer the employee's question. You may call one tool per turn "
    'by replying {{"tool": NAME, "arguments": {{...}}}}, or finish by replying '
    '{{"answer": TEXT}}. Tools:\n{tools}'
)


@dataclass
class Step:
    """One step of a run: a model turn (`kind="model"`) or a tool call (`kind="tool"`)."""

    kind: str
    name: str
    input: Any
    output: Any
    latency_s: float = 0.0
    tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None

    @classmethod
    def of_call(cls, kind: str, model: str, prompt: str, resp) -> Step:
        """The step of one model call (`resp`: its `Response`); a cached answer cost nothing."""
        tokens = (resp.prompt_tokens or 0) + (resp.completion_tokens or 0)
        cost = 0.0 if resp.cached else resp.cost_usd
        return cls(kind, model, prompt, resp.text, resp.latency_s or 0.0, tokens, cost, resp.error)


@dataclass
class AgentRun:
    """What an agent did on one question: its answer, calls, steps and how it stopped
    ("answer", "budget", "loop", "truncated", "unparsed" or "error")."""

    question: str
    answer: str = ""
    stopped: str = ""
    steps: list[Step] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    unparsed: int = 0
    trace_id: str | None = None

    @property
    def model_steps(self) -> int:
        return sum(s.kind == "model" for s in self.steps)


def reply_schema(tools: list[str]) -> dict[str, Any]:
    """The JSON schema of one reply: a call of one of `tools` with valid arguments, or an
    answer."""
    options = [
        {
            "type": "object",
            "properties": {
                "tool": {"const": name},
                "arguments": registry.entry("tool", name).info.get("schema") or {"type": "object"},
            },
            "required": ["tool", "arguments"],
            "additionalProperties": False,
        }
        for name in tools
    ]
    options.append(
        {
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
            "additionalProperties": False,
        }
    )
    return {"anyOf": options}


def parse_reply(text: str, tools: list[str]) -> dict[str, Any] | None:
    """The call or answer in a reply, or None when it is neither (unknown tool included)."""
    try:
        data = json.loads(text.strip().removeprefix("```json").removesuffix("```").strip())
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("answer"), str) and "tool" not in data:
        return {"answer": data["answer"]}
    if data.get("tool") in tools and isinstance(data.get("arguments", {}), dict):
        return {"tool": data["tool"], "arguments": data.get("arguments") or {}}
    return None


def _system(tools: list[str]) -> str:
    lines = [
        f"- {n}: {registry.entry('tool', n).description}; arguments "
        f"{json.dumps((registry.entry('tool', n).info.get('schema') or {}).get('properties', {}))}"
        for n in tools
    ]
    return SYSTEM.format(tools="\n".join(lines))


def _result_text(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 1500 else text[:1500] + "…"


def run_agents(
    model: str,
    questions: list[str],
    tools: list[str],
    *,
    max_steps: int | list[int] = 5,
    max_tokens: int = 128,
    name: str = "agent",
    parents: list[str | None] | None = None,
) -> list[AgentRun]:
    """Run the agent on every question; the model turns of all unfinished runs are batched.

    A run stops at an answer, at `max_steps` model turns (one budget, or one per question:
    "budget"), when it repeats a call it already made ("loop"), at a reply cut off at
    `max_tokens` ("truncated"), or at a reply that is neither a call nor an answer
    ("unparsed").
    A tool that fails (bad arguments included) is a failed step whose error the model sees.
    `parents`: a W3C traceparent per question for its `invoke_agent` span (a chain's root).
    """
    for t in tools:
        registry.entry("tool", t)  # an unknown tool is an error before any model call
    fmt = {"type": "json_schema", "json_schema": {"name": "step", "schema": reply_schema(tools)}}
    system = _system(tools)
    runs = [AgentRun(q) for q in questions]
    budgets = [max_steps] * len(questions) if isinstance(max_steps, int) else list(max_steps)
    if len(budgets) != len(questions) or min(budgets, default=1) < 1:
        raise ParameterError("max_steps: one budget of at least 1, or one per question")
    roots = [
        trace.start(
            f"invoke_agent {name}",
            kind="internal",
            parent=parents[n] if parents else None,
            gen_ai__operation__name="invoke_agent",
            gen_ai__agent__name=name,
            workbench__request__input=q,
        )
        for n, q in enumerate(questions)
    ]
    messages = [
        [{"role": "system", "content": system}, {"role": "user", "content": q}] for q in questions
    ]
    active = list(range(len(runs)))
    while active:
        requests = [
            Request(
                list(messages[i]),
                max_tokens=max_tokens,
                response_format=fmt,
                traceparent=trace.traceparent(roots[i]),
            )
            for i in active
        ]
        replies = generate_many(model, requests, progress=False)
        still = []
        for i, resp in zip(active, replies, strict=True):
            run = runs[i]
            step = Step.of_call("model", model, messages[i][-1]["content"], resp)
            run.steps.append(step)
            if resp.error:
                run.stopped = "error"
                continue
            parsed = parse_reply(resp.text, tools)
            if parsed is None and resp.finish_reason == "length":
                # Cut off at max_tokens: a budget problem, not a malformed reply.
                step.error = f"the reply was cut off at max_tokens ({max_tokens})"
                run.stopped = "truncated"
                continue
            if parsed is None:
                run.unparsed += 1
                step.error = "the reply is neither a tool call nor an answer"
                run.stopped = "unparsed"
                continue
            if "answer" in parsed:
                run.answer, run.stopped = parsed["answer"], "answer"
                continue
            call = {"name": parsed["tool"], "arguments": parsed["arguments"]}
            if call in run.calls:
                run.calls.append(call)
                run.stopped = "loop"
                continue
            run.calls.append(call)
            run.steps.append(_call_tool(call, roots[i]))
            messages[i] += [
                {"role": "assistant", "content": resp.text},
                {"role": "user", "content": f"Tool result: {run.steps[-1].output}"},
            ]
            if run.model_steps >= budgets[i]:
                run.stopped = "budget"
                continue
            still.append(i)
        active = still
    for run, root in zip(runs, roots, strict=True):
        trace.set_attributes(
            root, workbench__response__output=run.answer, workbench__agent__stopped=run.stopped
        )
        run.trace_id = trace.current_trace_id(root) if root is not None else None
        trace.end(root, error=None if run.stopped == "answer" else f"stopped: {run.stopped}")
    return runs


def _call_tool(call: dict[str, Any], root) -> Step:
    started = time.perf_counter()
    try:
        with trace.use(root):
            value = registry.call_tool(call["name"], call["arguments"])
        output, error = _result_text(value), None
    except Exception as exc:  # a failing tool is a failed step the model is told about
        output, error = f"error: {exc}", f"{type(exc).__name__}: {exc}"
    return Step(
        "tool", call["name"], call["arguments"], output, time.perf_counter() - started, error=error
    )
