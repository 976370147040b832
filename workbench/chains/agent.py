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
from ..llm import Request, generate_many, get_provider
from .tools import describe

API_SYSTEM = (
    "You are an HR assistant. Answer the employee's question; call the tools when they help."
)
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
    cached: bool = False  # a model step answered from the response cache (latency not measured)

    @classmethod
    def of_call(cls, kind: str, model: str, prompt: str, resp) -> Step:
        """The step of one model call (`resp`: its `Response`); a cached answer cost nothing."""
        tokens = (resp.prompt_tokens or 0) + (resp.completion_tokens or 0)
        cost = 0.0 if resp.cached else resp.cost_usd
        latency = resp.latency_s or 0.0
        return cls(kind, model, prompt, resp.text, latency, tokens, cost, resp.error, resp.cached)


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


def read_reply(
    resp, tools: list[str], use_api: bool
) -> tuple[list[dict[str, Any]] | None, str | None]:
    """(calls, None) or ([], answer) from a reply; (None, None) when it is neither (a call to
    an unknown tool, arguments that are not a JSON object, text that is not the JSON asked for)."""
    if not use_api:
        parsed = parse_reply(resp.text, tools)
        if parsed is None:
            return None, None
        if "answer" in parsed:
            return [], parsed["answer"]
        return [{"id": None, "name": parsed["tool"], "arguments": parsed["arguments"]}], None
    if not resp.tool_calls:
        return [], resp.text  # no call: the reply is the answer
    calls = []
    for c in resp.tool_calls:
        try:
            args = json.loads(c["arguments"]) if isinstance(c["arguments"], str) else c["arguments"]
        except ValueError:
            return None, None
        if c["name"] not in tools or not isinstance(args, dict):
            return None, None
        calls.append({"id": c["id"], "name": c["name"], "arguments": args})
    return calls, None


def _turns(resp, done: list[tuple[dict[str, Any], Step]], use_api: bool) -> list[dict[str, Any]]:
    """The conversation turns that report the calls of one reply and their results."""
    if not use_api:
        return [
            {"role": "assistant", "content": resp.text},
            *({"role": "user", "content": f"Tool result: {s.output}"} for _, s in done),
        ]
    calls = [
        {
            "id": c["id"],
            "type": "function",
            "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
        }
        for c, _ in done
    ]
    return [
        {"role": "assistant", "content": resp.text or None, "tool_calls": calls},
        *({"role": "tool", "tool_call_id": c["id"], "content": s.output} for c, s in done),
    ]


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
    # An HTTP model gets the OpenAI tools API; a local one a JSON schema it decodes under.
    use_api = get_provider(model).supports("tools")
    ask = (
        {"tools": describe(tools)}
        if use_api
        else {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "step", "schema": reply_schema(tools)},
            }
        }
    )
    system = API_SYSTEM if use_api else _system(tools)
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
                traceparent=trace.traceparent(roots[i]),
                **ask,
            )
            for i in active
        ]
        replies = generate_many(model, requests, progress=False)
        still = []
        for i, resp in zip(active, replies, strict=True):
            run = runs[i]
            step = Step.of_call("model", model, str(messages[i][-1]["content"]), resp)
            run.steps.append(step)
            if resp.error:
                run.stopped = "error"
                continue
            calls, answer = read_reply(resp, tools, use_api)
            if calls is None and resp.finish_reason == "length":
                # Cut off at max_tokens: a budget problem, not a malformed reply.
                step.error = f"the reply was cut off at max_tokens ({max_tokens})"
                run.stopped = "truncated"
                continue
            if calls is None:
                run.unparsed += 1
                step.error = "the reply is neither a tool call nor an answer"
                run.stopped = "unparsed"
                continue
            if answer is not None:
                run.answer, run.stopped = answer, "answer"
                continue
            done = []
            for call in calls:
                plain = {"name": call["name"], "arguments": call["arguments"]}
                repeated = plain in run.calls
                run.calls.append(plain)
                if repeated:
                    run.stopped = "loop"
                    break
                run.steps.append(_call_tool(plain, roots[i]))
                done.append((call, run.steps[-1]))
            if run.stopped == "loop":
                continue
            messages[i] += _turns(resp, done, use_api)
            if run.model_steps >= budgets[i]:
                run.stopped = "budget"
                continue
            still.append(i)
        active = still
    for run, root in zip(runs, roots, strict=True):
        run.trace_id = trace.end(
            root,
            error=None if run.stopped == "answer" else f"stopped: {run.stopped}",
            workbench__response__output=run.answer,
            workbench__agent__stopped=run.stopped,
        )
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
