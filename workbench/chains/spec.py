"""Chain definitions: versioned YAML files under `datasets/chains/`, one step list each.

Step types: `guard` (input or output), `retrieve` (a RAG configuration over a corpus),
`prompt` (a template and a catalog model), `tool` and `code` (a registered function with
arguments filled from the chain's state), and `agent` (the tool-calling loop). A chain's version
is a hash of its canonical content and of the versions of everything it references: each
template's version, each model's weights (sha256 from the catalog, or its adapter's) and each
corpus's files. Editing any of them changes the chain's version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from .. import config, registry, tracking
from ..data import read_yaml_mapping
from ..errors import DataError
from ..io import Schema, file_sha256, validate
from ..models import get_model, weights_fingerprint
from ..prompts import list_templates, load_template
from ..rag.settings import Retrieval

FOLDER = "chains"


class GuardStep(Schema):
    type: Literal["guard"]
    check: Literal["input", "output"]


class RetrieveStep(Retrieval):
    type: Literal["retrieve"]


class PromptStep(Schema):
    type: Literal["prompt"]
    template: str
    model: str
    max_tokens: int = Field(64, gt=0)


class ToolStep(Schema):
    type: Literal["tool", "code"]
    function: str
    arguments: dict[str, str] = {}  # argument -> template over the state, e.g. "{question}"
    output: str = "result"  # the state field the result goes to


class AgentStep(Schema):
    type: Literal["agent"]
    model: str
    tools: list[str] = Field(min_length=1)
    max_steps: int = Field(4, ge=1, le=20)


Step = Annotated[
    GuardStep | RetrieveStep | PromptStep | ToolStep | AgentStep, Field(discriminator="type")
]


class ChainSpec(Schema):
    """A chain file."""

    name: str = Field(min_length=1)
    description: str = ""
    steps: list[Step] = Field(min_length=1)


def path_of(name: str) -> Path:
    return config.datasets_dir() / FOLDER / f"{name}.yaml"


def list_chains() -> list[str]:
    folder = config.datasets_dir() / FOLDER
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def _corpus_version(corpus: str) -> str:
    folder = config.datasets_dir() / corpus
    if not folder.is_dir():
        raise DataError(f"corpus {corpus!r}: no folder {folder}")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for p in files:
        digest.update(f"{p.relative_to(folder)}:{file_sha256(p)}\n".encode())
    return digest.hexdigest()[:12]


def _model_version(model_id: str) -> str:
    spec = get_model(model_id)
    if spec.adapter_sha256:
        return f"adapter:{spec.adapter_sha256[:12]}"
    if spec.source:  # a local model: its weights' sha256 (memoised per file)
        return f"weights:{weights_fingerprint(spec)[:12]}"
    return f"{spec.provider}:{spec.model}"


class Chain:
    """A loaded chain: its spec, the versions of its components and its own version."""

    def __init__(self, spec: ChainSpec, path: Path):
        self.spec, self.path = spec, path
        self.components = self._components()
        canonical = json.dumps(
            {"chain": spec.model_dump(), "components": self.components}, sort_keys=True
        )
        self.version = hashlib.sha256(canonical.encode()).hexdigest()[:10]

    def _components(self) -> dict[str, str]:
        """Every referenced component and its version; an unknown one is an error naming the
        file and step."""
        out: dict[str, str] = {}
        templates = set(list_templates())
        tools = set(registry.names("tool"))
        for i, step in enumerate(self.spec.steps):
            where = f"{self.path}: steps[{i}] ({step.type})"
            try:
                if isinstance(step, PromptStep):
                    if step.template not in templates:
                        raise DataError(f"unknown template {step.template!r}")
                    out[f"template:{step.template}"] = load_template(step.template).version
                    out[f"model:{step.model}"] = _model_version(step.model)
                elif isinstance(step, AgentStep):
                    out[f"model:{step.model}"] = _model_version(step.model)
                    for t in step.tools:
                        registry.entry("tool", t)
                        out[f"tool:{t}"] = "registered"
                elif isinstance(step, ToolStep):
                    if step.function not in tools:
                        raise DataError(f"unknown tool {step.function!r}")
                    out[f"tool:{step.function}"] = "registered"
                elif isinstance(step, RetrieveStep):
                    registry.entry("chunker", step.chunker)
                    registry.entry("retriever", step.retriever)
                    out[f"corpus:{step.corpus}"] = _corpus_version(step.corpus)
            except (DataError, KeyError, ValueError) as exc:
                message = exc.args[0] if exc.args else str(exc)
                raise DataError(f"{where}: {message}") from None
        return out

    def record(self) -> None:
        """Put the chain's version and its components' into the run record (`chains`)."""
        run = tracking.current()
        chains = dict(run.data.get("chains") or {})
        chains[self.spec.name] = {"version": self.version, "components": self.components}
        run.log_section("chains", chains)


def load_chain(name_or_path: str | Path) -> Chain:
    """A chain by name (`datasets/chains/<name>.yaml`) or path; errors name the file and key."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = path_of(str(name_or_path))
    raw = read_yaml_mapping(path, "chain definition")
    spec = validate(ChainSpec, raw, str(path), DataError)
    return Chain(spec, path)


def chain_usage(reports_root: Path | None = None) -> dict[str, dict[str, list[str]]]:
    """{chain name: {version: [run ids]}} from every run record."""
    from .. import runs

    usage: dict[str, dict[str, list[str]]] = {}
    for run in runs.list_runs(reports_root):
        for name, entry in (run.get("chains") or {}).items():
            usage.setdefault(name, {}).setdefault(entry["version"], []).append(run["run_id"])
    return usage


def describe(chain: Chain) -> dict[str, Any]:
    return {"name": chain.spec.name, "version": chain.version, "components": chain.components}
