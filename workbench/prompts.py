"""Versioned prompt templates (`datasets/prompts/<name>.yaml`), few-shot assembly and rendering.

A template's version is a short hash of its canonical content, so any edit, even one
character, is a new version. Rendering uses Jinja2 with undefined variables as errors;
an error names the template, the variable and the case.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from pydantic import Field

from . import config, runs, tracking
from .data import DataError, Task, read_jsonl, read_yaml_mapping
from .embeddings import embed
from .errors import PromptError
from .io import Schema, validate

SELECTIONS = ("fixed", "random", "similar")
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


class FewShotSpec(Schema):
    """The `few_shot` block of a template file."""

    dataset: str = Field(min_length=1)
    k: int = 3
    selection: str = "random"
    ids: list[str] = []
    seed: int = 0
    input_field: str = "input"
    output_field: str = "reference"


class TemplateSpec(Schema):
    """A prompt template file under `datasets/prompts/`."""

    name: str = Field(min_length=1)
    user: str = Field(min_length=1)
    description: str = ""
    system: str = ""
    variables: list[str] = []
    few_shot: FewShotSpec | None = None


@dataclass(frozen=True)
class FewShot:
    """Where few-shot examples come from and how they are chosen."""

    dataset: str
    k: int = 3
    selection: str = "random"
    ids: tuple[str, ...] = ()
    seed: int = 0
    input_field: str = "input"
    output_field: str = "reference"


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str
    user: str
    variables: tuple[str, ...]
    description: str = ""
    few_shot: FewShot | None = None
    path: Path | None = field(default=None, compare=False)

    def content(self) -> dict[str, Any]:
        """The canonical content the version is computed from."""
        data: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "system": self.system,
            "user": self.user,
            "variables": list(self.variables),
        }
        if self.few_shot:
            fs = self.few_shot
            data["few_shot"] = {**fs.__dict__, "ids": list(fs.ids)}
        return data

    @property
    def version(self) -> str:
        canonical = json.dumps(self.content(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10]

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def with_overrides(self, **overrides: Any) -> PromptTemplate:
        """A variant: `k`, `selection`, `seed`, `ids` change the few-shot block; `system`, `user` the text."""
        fs_keys = {"k", "selection", "seed", "ids"}
        fs_over = {k: v for k, v in overrides.items() if k in fs_keys}
        other = {k: v for k, v in overrides.items() if k not in fs_keys}
        unknown = set(other) - {"system", "user", "description"}
        if unknown:
            raise PromptError(
                f"template {self.name!r}: cannot override {', '.join(sorted(unknown))}"
            )
        few_shot = self.few_shot
        if fs_over:
            if few_shot is None:
                raise PromptError(f"template {self.name!r} has no few_shot block to override")
            if "ids" in fs_over:
                fs_over["ids"] = tuple(fs_over["ids"])
            few_shot = replace(few_shot, **fs_over)
            _check_few_shot(few_shot, self.name)
        return replace(self, few_shot=few_shot, **other)

    # ------------------------------------------------------------------ rendering

    def _render(self, text: str, what: str, values: dict[str, Any], case_id: str) -> str:
        try:
            return _ENV.from_string(text).render(**values).strip()
        except jinja2.UndefinedError as exc:
            raise PromptError(
                f"template {self.label} ({what}): {exc.message} for case {case_id!r}; "
                f"the case has {', '.join(sorted(values))}"
            ) from None

    def examples(self, case: dict[str, Any]) -> list[dict[str, Any]]:
        """The few-shot examples for `case` (never the case itself)."""
        if not self.few_shot or self.few_shot.k <= 0:
            return []
        fs = self.few_shot
        pool = [r for r in _load_pool(fs.dataset) if r.get("id") != case.get("id")]
        if fs.selection == "fixed":
            by_id = {r["id"]: r for r in pool}
            missing = [i for i in fs.ids if i not in by_id and i != case.get("id")]
            if missing:
                raise PromptError(
                    f"template {self.label}: few-shot ids not in {fs.dataset}: {missing}"
                )
            return [by_id[i] for i in fs.ids if i in by_id][: fs.k]
        if fs.selection == "random":
            # Seeded per case, so a case always sees the same examples whatever else is in the run.
            rng = random.Random(f"{fs.seed}:{case.get('id')}")
            return rng.sample(pool, min(fs.k, len(pool)))
        vectors = embed([str(r[fs.input_field]) for r in pool])
        query = embed([str(case[fs.input_field])])[0]
        order = (vectors @ query).argsort()[::-1][: fs.k]
        return [pool[i] for i in order]

    def render(self, case: dict[str, Any]) -> list[dict[str, str]]:
        """Chat messages for one case: system, few-shot user/assistant pairs, the case's user turn."""
        case_id = str(case.get("id", "?"))
        messages = []
        if self.system:
            messages.append(
                {"role": "system", "content": self._render(self.system, "system", case, case_id)}
            )
        fs = self.few_shot
        for ex in self.examples(case):
            messages.append(
                {"role": "user", "content": self._render(self.user, "user", ex, str(ex.get("id")))}
            )
            messages.append({"role": "assistant", "content": str(ex[fs.output_field])})
        messages.append({"role": "user", "content": self._render(self.user, "user", case, case_id)})
        return messages


def prompts_dir() -> Path:
    return config.datasets_dir() / "prompts"


def list_templates() -> list[str]:
    return sorted(p.stem for p in prompts_dir().glob("*.yaml"))


def _load_pool(dataset: str) -> list[dict[str, Any]]:
    path = config.datasets_dir() / dataset
    rows = read_jsonl(path, required=("id",))
    tracking.current().log_dataset(path)
    return rows


def _check_few_shot(fs: FewShot, name: str) -> None:
    if fs.selection not in SELECTIONS:
        raise PromptError(
            f"template {name!r}: few_shot.selection must be one of {SELECTIONS}, got {fs.selection!r}"
        )
    if fs.selection == "fixed" and len(fs.ids) < fs.k:
        raise PromptError(
            f"template {name!r}: few_shot.selection 'fixed' needs at least k={fs.k} ids"
        )
    if fs.k < 0:
        raise PromptError(f"template {name!r}: few_shot.k must be >= 0")


def load_template(name: str | Path, track: bool = True) -> PromptTemplate:
    """Load a template by name (from `datasets/prompts/`) or path; checks its declared variables."""
    path = Path(name) if str(name).endswith((".yaml", ".yml")) else prompts_dir() / f"{name}.yaml"
    if not path.is_file():
        raise PromptError(
            f"prompt template {name!r} not found (no {path}); known: {', '.join(list_templates())}"
        )
    try:
        raw = read_yaml_mapping(path, "prompt template")
    except DataError as exc:
        raise PromptError(str(exc)) from None
    spec = validate(TemplateSpec, raw, str(path), PromptError)
    declared = tuple(spec.variables)
    for part in ("system", "user"):
        try:
            used = jinja2.meta.find_undeclared_variables(_ENV.parse(getattr(spec, part)))
        except jinja2.TemplateSyntaxError as exc:
            raise PromptError(
                f"{path}: {part} template, line {exc.lineno}: {exc.message}"
            ) from None
        undeclared = sorted(used - set(declared))
        if undeclared:
            raise PromptError(
                f"{path}: {part} template uses undeclared variable(s) {', '.join(undeclared)}"
            )
    few_shot = None
    if spec.few_shot:
        few_shot = FewShot(**{**spec.few_shot.model_dump(), "ids": tuple(spec.few_shot.ids)})
        _check_few_shot(few_shot, spec.name)
    template = PromptTemplate(
        name=spec.name,
        description=spec.description,
        system=spec.system,
        user=spec.user,
        variables=declared,
        few_shot=few_shot,
        path=path,
    )
    if track:
        tracking.current().log_prompt(template.name, template.version)
    return template


def parse_variant(spec: str | dict[str, Any]) -> tuple[str, PromptTemplate]:
    """A variant from `"template"`, `"template:k=1"` (overrides) or a mapping {name, template, ...}.

    Returns (variant name, template with overrides applied). The run record lists the
    variant under its name with the version of the content actually used.
    """
    if isinstance(spec, dict):
        spec = dict(spec)
        base = spec.pop("template", None) or spec.get("name")
        name = spec.pop("name", None) or base
        overrides = spec
    else:
        base, _, rest = spec.partition(":")
        overrides = {}
        for item in filter(None, rest.split(",")):
            key, sep, value = item.partition("=")
            if not sep:
                raise PromptError(f"variant {spec!r}: expected key=value after ':', got {item!r}")
            overrides[key.strip()] = (
                int(value) if value.strip().lstrip("-").isdigit() else value.strip()
            )
        name = spec
    template = load_template(base, track=False)
    if overrides:
        template = template.with_overrides(**overrides)
    tracking.current().log_prompt(name, template.version)
    return name, template


def describe(variants: dict[str, PromptTemplate]) -> list[dict[str, Any]]:
    """One row per variant: template, version, few-shot set-up and system message."""
    rows = []
    for name, t in variants.items():
        fs = t.few_shot
        rows.append(
            {
                "variant": name,
                "template": t.name,
                "version": t.version,
                "few_shot": f"{fs.k} x {fs.selection} from {fs.dataset}" if fs and fs.k else "none",
                "system": t.system,
                "description": t.description,
            }
        )
    return rows


def template_usage(reports_root: Path | None = None) -> dict[str, dict[str, list[str]]]:
    """{template or variant name: {version: [run ids]}} from every run record."""
    usage: dict[str, dict[str, list[str]]] = {}
    for run in runs.list_runs(reports_root):
        for name, version in (run.get("prompts") or {}).items():
            usage.setdefault(name, {}).setdefault(version, []).append(run["run_id"])
    return usage


def from_task(task: Task) -> PromptTemplate:
    """The task's own prompt as a template: its instruction as the system message and its input
    template as the user turn, exactly what `discovery` sends and what a tuned model learnt."""
    return PromptTemplate(
        name=f"{task.name}-task-prompt",
        system=task.instruction,
        user=task.input_template.replace("{input}", "{{ input }}"),
        variables=("input",),
        description=f"The instruction and input template of task {task.name!r}, zero-shot.",
    )
