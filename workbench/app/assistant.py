"""The reference application: retrieval over a documents folder, a versioned prompt template,
guards and a catalog model, configured by one versioned file and traced request by request."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from .. import config, trace
from ..data import read_yaml_mapping
from ..errors import DataError
from ..io import Schema, validate
from ..llm import Request
from ..models import get_model
from ..prompts import load_template
from ..rag import Index, chunk_corpus
from ..rag.pipeline import load as load_corpus
from ..rag.settings import Retrieval
from ..safety.guard import guarded_generate


class Guards(Schema):
    input: bool = True
    output: bool = True


class AppSpec(Schema):
    """The application's configuration file."""

    name: str = Field(min_length=1)
    model: str
    template: str
    max_tokens: int = Field(64, gt=0)
    retrieval: Retrieval
    guards: Guards = Guards()


def default_path() -> Path:
    return config.datasets_dir() / "app" / "hr_assistant.yaml"


@dataclass
class Answer:
    text: str
    trace_id: str | None
    blocked: str
    chunks: list[str]
    latency_s: float
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None


class Assistant:
    """Load once (chunks and index), then `answer` questions, each a trace when tracing is on."""

    def __init__(self, spec: AppSpec, path: Path):
        self.spec, self.path = spec, path
        get_model(spec.model)  # an unknown model is an error before the index is built
        self.template = load_template(spec.template)
        r = spec.retrieval
        chunks = chunk_corpus(load_corpus(r.corpus), r.chunker, r.size, r.overlap)
        self.index = Index.build(chunks)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Assistant:
        path = Path(path) if path else default_path()
        spec = validate(
            AppSpec, read_yaml_mapping(path, "application configuration"), str(path), DataError
        )
        return cls(spec, path)

    @property
    def version(self) -> str:
        """sha256 (12 digits) of the settings and the prompt template's version."""
        content = {**self.spec.model_dump(), "template_version": self.template.version}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]

    def answer(
        self,
        question: str,
        request_id: str | None = None,
        timestamp: str | None = None,
        parent: str | None = None,
    ) -> Answer:
        """Retrieve, prompt, guard and generate for one question, as one trace (`timestamp`:
        when a replayed request was originally made; `parent`: a caller's W3C traceparent)."""
        return self.answer_many([question], [request_id], [timestamp], parent=parent)[0]

    def answer_many(
        self,
        questions: list[str],
        request_ids: list[str | None] | None = None,
        timestamps: list[str | None] | None = None,
        parent: str | None = None,
        progress: bool = False,
    ) -> list[Answer]:
        """`answer` for several questions at once: one trace each, one batched generation.

        Each answer's latency (and its root span) runs from the start of the batch to its end:
        what a request waits when it is served with the others.
        """
        started = time.perf_counter()
        s, r = self.spec, self.spec.retrieval
        n = len(questions)
        ids, stamps = request_ids or [None] * n, timestamps or [None] * n
        roots, requests, chunk_ids = [], [], []
        for question, request_id, stamp in zip(questions, ids, stamps, strict=True):
            root = trace.start(
                f"chain {s.name}",
                kind="server",
                parent=parent,
                workbench__app__name=s.name,
                workbench__app__version=self.version,
                workbench__request__id=request_id,
                workbench__request__timestamp=stamp,
                workbench__request__input=question,
                workbench__batch__size=n if n > 1 else None,
            )
            with trace.use(root):
                hits = self.index.search([question], r.retriever, r.k)[0]
            case = {
                "id": request_id or "request",
                "question": question,
                "context": "\n\n".join(h.chunk.text for h in hits),
            }
            roots.append(root)
            chunk_ids.append([h.chunk.id for h in hits])
            requests.append(
                Request(
                    self.template.render(case),
                    max_tokens=s.max_tokens,
                    traceparent=trace.traceparent(root),
                )
            )
        responses = guarded_generate(
            s.model,
            requests,
            input_guard=s.guards.input,
            output_guard=s.guards.output,
            progress=progress,
        )
        latency = time.perf_counter() - started
        answers = []
        for root, resp, chunks in zip(roots, responses, chunk_ids, strict=True):
            blocked = resp.metadata.get("guard", {}).get("blocked", "")
            trace_id = trace.end(
                root,
                error=resp.error,
                workbench__response__output=resp.text,
                workbench__guard__blocked=blocked or "none",
            )
            answers.append(
                Answer(
                    resp.text,
                    trace_id,
                    blocked,
                    chunks,
                    latency,
                    resp.prompt_tokens,
                    resp.completion_tokens,
                    resp.error,
                )
            )
        return answers

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "version": self.version,
            "config": str(self.path),
            **self.spec.model_dump(),
            "template_version": self.template.version,
        }
