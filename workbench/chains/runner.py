"""Running a chain on questions: its steps in order, each batched over the questions, every
step's input, output, latency, tokens and error recorded, one trace per question."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from .. import registry, trace
from ..llm import Request, generate_many
from ..prompts import load_template
from ..safety.guard import REFUSAL, check_input, check_output
from .agent import Step, run_agents
from .spec import AgentStep, Chain, GuardStep, PromptStep, RetrieveStep, ToolStep
from .tools import corpus_index


@dataclass
class ChainRun:
    """One question through a chain: its answer, every step, and how it ended ("answer",
    "blocked", or the agent's stop reason)."""

    question: str
    answer: str = ""
    stopped: str = "answer"
    steps: list[Step] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    trace_id: str | None = None
    unparsed: int = 0


def _retrieve(step: RetrieveStep, run: ChainRun) -> Step:
    index = corpus_index(step.corpus, step.chunker, step.size, step.overlap)
    started = time.perf_counter()  # the search, not the index built once for every question
    hits = index.search([run.question], step.retriever, step.k)[0]
    run.state["context"] = "\n\n".join(h.chunk.text for h in hits)
    run.state["chunks"] = [h.chunk.id for h in hits]
    return Step(
        "retrieve", step.retriever, run.question, run.state["chunks"], time.perf_counter() - started
    )


def _tool(step: ToolStep, run: ChainRun) -> Step:
    started = time.perf_counter()
    arguments = {k: v.format(**run.state) for k, v in step.arguments.items()}
    try:
        value = registry.call_tool(step.function, arguments)
        run.state[step.output] = value
        output, error = json.dumps(value, ensure_ascii=False, default=str), None
    except Exception as exc:  # a failing tool is a failed step, not a lost run
        output, error = "", f"{type(exc).__name__}: {exc}"
    run.calls.append({"name": step.function, "arguments": arguments})
    return Step(
        step.type, step.function, arguments, output, time.perf_counter() - started, error=error
    )


def run_chain(
    chain: Chain,
    questions: list[str],
    state: dict[str, Any] | None = None,
    budgets: list[int] | None = None,
) -> list[ChainRun]:
    """Every question through `chain` (`state`: more values the steps' arguments and templates
    may use; `budgets`: a step budget per question, capping each agent step's own); a question
    a guard blocks skips the remaining steps."""
    chain.record()
    s = chain.spec
    runs = [ChainRun(q, state={**(state or {}), "question": q, "context": ""}) for q in questions]
    roots = [
        trace.start(
            f"chain {s.name}",
            kind="server",
            workbench__chain__name=s.name,
            workbench__chain__version=chain.version,
            workbench__request__input=q,
        )
        for q in questions
    ]
    for step in s.steps:
        live = [i for i, r in enumerate(runs) if r.stopped == "answer"]
        if isinstance(step, PromptStep):
            template = load_template(step.template)
            requests = [
                Request(
                    template.render({"id": str(i), **runs[i].state}),
                    max_tokens=step.max_tokens,
                    traceparent=trace.traceparent(roots[i]),
                )
                for i in live
            ]
            replies = generate_many(step.model, requests, progress=False)
            for i, request, resp in zip(live, requests, replies, strict=True):
                runs[i].answer = runs[i].state["answer"] = resp.text
                prompt = request.messages[-1]["content"]
                runs[i].steps.append(Step.of_call("prompt", step.model, prompt, resp))
        elif isinstance(step, AgentStep):
            agent_runs = run_agents(
                step.model,
                [runs[i].question for i in live],
                step.tools,
                max_steps=[
                    min(step.max_steps, budgets[i]) if budgets else step.max_steps for i in live
                ],
                name=s.name,
                parents=[trace.traceparent(roots[i]) for i in live],
            )
            for i, ar in zip(live, agent_runs, strict=True):
                runs[i].answer = runs[i].state["answer"] = ar.answer
                runs[i].steps += ar.steps
                runs[i].calls += ar.calls
                runs[i].unparsed += ar.unparsed
                if ar.stopped != "answer":
                    runs[i].stopped = ar.stopped
        else:
            for i in live:
                with trace.use(roots[i]):
                    runs[i].steps.append(_simple(step, runs[i]))
    for run, root in zip(runs, roots, strict=True):
        run.trace_id = trace.end(
            root, workbench__response__output=run.answer, workbench__chain__stopped=run.stopped
        )
    return runs


def _simple(step, run: ChainRun) -> Step:
    """A guard, retrieval, tool or code step for one question."""
    if isinstance(step, RetrieveStep):
        return _retrieve(step, run)
    if isinstance(step, ToolStep):
        return _tool(step, run)
    assert isinstance(step, GuardStep)
    text = run.question if step.check == "input" else run.answer
    checked = check_input(text) if step.check == "input" else check_output(text)
    if checked.blocked:
        run.answer, run.stopped = REFUSAL, "blocked"
    elif step.check == "output":
        run.answer = run.state["answer"] = checked.text
    trace.record(
        "guard",
        0.0,
        kind="internal",
        workbench__guard__check=step.check,
        workbench__guard__blocked=step.check if checked.blocked else "none",
        workbench__guard__reasons=list(checked.reasons),
    )
    return Step("guard", step.check, text, "blocked" if checked.blocked else "passed", error=None)
