"""One registry for everything a notebook parameter can name.

Kinds: providers, metrics, mutators, detectors, chunkers, retrievers, tools. A built-in or a
plug-in is one decorated definition::

    from workbench import registry

    @registry.mutator("reverse", description="the attack text backwards")
    def reverse(text, rng):
        return text[::-1]

Lookups go by the name a parameter gives; an unknown name raises `UnknownName` listing the
known ones. Built-ins register when their module is imported; the registry imports those
modules on the first lookup of their kind, and also every module named in the
`workbench.plugins` entry-point group, which is how a third-party package adds its own
(`[project.entry-points."workbench.plugins"] mine = "my_package.workbench_plugin"`).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from .errors import UnknownName

log = logging.getLogger(__name__)

KINDS = ("provider", "metric", "mutator", "detector", "chunker", "retriever", "tool")
PLUGIN_GROUP = "workbench.plugins"

# Where the built-ins of each kind are defined (imported on the first lookup of that kind, so
# the registry itself depends on nothing above it).
_BUILTINS: dict[str, tuple[str, ...]] = {
    "provider": ("workbench.llm", "workbench.embeddings"),
    "metric": ("workbench.metrics",),
    "mutator": ("workbench.fuzz.mutators",),
    "detector": ("workbench.safety.detectors",),
    "chunker": ("workbench.rag.chunking",),
    "retriever": ("workbench.rag.index",),
    "tool": ("workbench.chains.tools",),
}


@dataclass(frozen=True)
class Entry:
    """One registered thing: its kind, name, the object itself and what it declares."""

    kind: str
    name: str
    obj: Any
    description: str = ""
    info: dict[str, Any] = field(default_factory=dict)


_ENTRIES: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}
_LOADED: set[str] = set()
_LOCK = threading.RLock()
_plugins_loaded = False


def _check_kind(kind: str) -> None:
    if kind not in _ENTRIES:
        raise ValueError(f"unknown registry kind {kind!r}; kinds: {', '.join(KINDS)}")


def register(kind: str, name: str, *, description: str = "", **info: Any) -> Callable:
    """Decorator: register the decorated object as `name` of `kind`; returns it unchanged.

    Registering a name again replaces the earlier entry (a plug-in may override a built-in).
    """
    _check_kind(kind)

    def decorate(obj: Any) -> Any:
        with _LOCK:
            _ENTRIES[kind][name] = Entry(kind, name, obj, description, dict(info))
        return obj

    return decorate


def provider(name: str, **info: Any) -> Callable:
    """Register a model provider class (`capabilities=`, `local=` declare what it can do)."""
    return register("provider", name, **info)


def metric(name: str, **info: Any) -> Callable:
    """Register a scorer (see `workbench.metrics.metric` for the batching wrapper)."""
    return register("metric", name, **info)


def mutator(name: str, **info: Any) -> Callable:
    """Register a text mutator `fn(text, rng) -> text`."""
    return register("mutator", name, **info)


def detector(name: str, **info: Any) -> Callable:
    """Register a success criterion of attack rows, `fn(output, Target) -> Detection`."""
    return register("detector", name, **info)


def chunker(name: str, **info: Any) -> Callable:
    """Register a chunker `fn(doc, size, overlap, model) -> list[Chunk]` (sizes in tokens of
    embedding model `model`)."""
    return register("chunker", name, **info)


def retriever(name: str, **info: Any) -> Callable:
    """Register a retriever `fn(index, queries, query_vectors, pool, **options)` returning
    ranked (chunk index, score) lists per query."""
    return register("retriever", name, **info)


def tool(name: str, **info: Any) -> Callable:
    """Register a tool an agent may call (`fn(**arguments)`; run it with `call_tool`)."""
    return register("tool", name, **info)


class ToolArgumentError(ValueError):
    """A tool's arguments do not match its JSON schema (a caller's, often a model's, mistake)."""


def call_tool(name: str, arguments: dict[str, Any], call_id: str | None = None) -> Any:
    """Run the registered tool `name` with `arguments`, traced as an `execute_tool` span.

    Arguments are checked against the tool's `schema` (JSON Schema) first: a mismatch raises
    `ToolArgumentError` naming the tool and the first problem, recorded on the span too.
    """
    from . import trace

    found = entry("tool", name)
    schema = found.info.get("schema")

    def run(**kwargs: Any) -> Any:
        if schema is not None:
            import jsonschema

            problems = sorted(
                jsonschema.Draft202012Validator(schema).iter_errors(kwargs), key=lambda e: e.path
            )
            if problems:
                where = "/".join(map(str, problems[0].absolute_path)) or "arguments"
                raise ToolArgumentError(f"tool {name!r}: {where}: {problems[0].message}")
        return found.obj(**kwargs)

    return trace.call_tool(run, name, arguments, call_id)


def load_plugins() -> list[str]:
    """Import every module of the `workbench.plugins` entry-point group (once); their names.

    A plug-in that fails to import is logged and skipped, so one broken package does not
    stop every run.
    """
    global _plugins_loaded
    with _LOCK:
        if _plugins_loaded:
            return []
        _plugins_loaded = True
        names = []
        for ep in entry_points(group=PLUGIN_GROUP):
            try:
                ep.load()
                names.append(ep.name)
            except Exception as exc:  # a broken plug-in is reported, not fatal
                log.warning("workbench plug-in %s (%s) failed to load: %s", ep.name, ep.value, exc)
        return names


def _ensure(kind: str) -> None:
    """Import the built-ins of `kind` and the plug-ins, on the first lookup of `kind` only
    (a lookup sits on hot paths such as every retrieval)."""
    _check_kind(kind)
    if kind in _LOADED:
        return
    with _LOCK:
        if kind in _LOADED:
            return
        _LOADED.add(kind)
        for module in _BUILTINS[kind]:
            importlib.import_module(module)
        load_plugins()


def entry(kind: str, name: str, *, what: str = "") -> Entry:
    """The entry registered as `name`; `UnknownName` (listing the known names) otherwise.

    `what` names the parameter or file that gave the name, for the message.
    """
    _ensure(kind)
    found = _ENTRIES[kind].get(name)
    if found is None:
        where = f"{what}: " if what else ""
        raise UnknownName(
            f"{where}unknown {kind} {name!r}; registered {kind}s: {', '.join(names(kind))}"
        )
    return found


def get(kind: str, name: str, *, what: str = "") -> Any:
    """The object registered as `name` of `kind` (see `entry`)."""
    return entry(kind, name, what=what).obj


def names(kind: str) -> list[str]:
    """Registered names of `kind`, in registration order."""
    _ensure(kind)
    return list(_ENTRIES[kind])


def entries(kind: str) -> list[Entry]:
    """Registered entries of `kind`, in registration order."""
    _ensure(kind)
    return list(_ENTRIES[kind].values())


class _View(Mapping):
    """A live, read-only name -> object mapping over one kind (plug-ins included)."""

    def __init__(self, kind: str, keep: Callable[[Entry], bool] | None):
        self._kind, self._keep = kind, keep

    def _items(self) -> dict[str, Any]:
        return {e.name: e.obj for e in entries(self._kind) if self._keep is None or self._keep(e)}

    def __getitem__(self, name: str) -> Any:
        return self._items()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return f"<registered {self._kind}s: {', '.join(self)}>"


def view(kind: str, keep: Callable[[Entry], bool] | None = None) -> Mapping[str, Any]:
    """A live mapping of the names of `kind` (optionally only entries `keep` accepts)."""
    return _View(kind, keep)
