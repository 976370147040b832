"""Notebook parameters: read the `parameters` cell, check overrides before anything runs.

The kind of a parameter (a catalog model id, a task name) is read from its default value,
never from its name, so the same checks hold for every notebook.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from . import config
from .data import list_tasks
from .errors import NotebookNotFound, ParameterError
from .models import model_ids


def resolve_notebook(name: str | Path) -> Path:
    """A notebook path from a path or a bare stem such as `01_model_discovery`."""
    p = Path(name)
    candidates = [p, config.notebooks_dir() / p, config.notebooks_dir() / f"{p}.ipynb"]
    for c in candidates:
        if c.is_file() and c.suffix == ".ipynb":
            return c.resolve()
    known = ", ".join(sorted(x.stem for x in config.notebooks_dir().glob("*.ipynb")))
    raise NotebookNotFound(f"notebook not found: {name} (known notebooks: {known})")


def notebook_parameters(path: str | Path) -> dict[str, dict[str, Any]]:
    """The notebook's `parameters` cell: {name: {default, type, help}}."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise ParameterError(f"{path}: no cell tagged 'parameters'")
    params: dict[str, dict[str, Any]] = {}
    lines = cells[0].source.splitlines()
    tree = ast.parse(cells[0].source)
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value_node = node.target.id, node.value
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name, value_node = node.targets[0].id, node.value
        else:
            continue
        try:
            default = ast.literal_eval(value_node) if value_node is not None else None
        except ValueError:
            raise ParameterError(
                f"{path}: parameter {name!r} (line {node.lineno} of the parameters cell) "
                "must be a literal"
            ) from None
        source_line = lines[node.end_lineno - 1]
        help_text = source_line.split("#", 1)[1].strip() if "#" in source_line else ""
        params[name] = {"default": default, "type": type(default).__name__, "help": help_text}
    return params


def _check_type(name: str, value: Any, default: Any, notebook: str) -> Any:
    def fail(expected: str) -> ParameterError:
        return ParameterError(
            f"parameter {name!r} of {notebook}: expected {expected}, got {value!r} "
            f"({type(value).__name__})"
        )

    if default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail("a number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise fail("a string")
        return value
    if isinstance(default, list | tuple):
        if not isinstance(value, list | tuple):
            raise fail("a list")
        kinds = {type(x) for x in default}
        if len(kinds) == 1:
            kind = kinds.pop()
            bad = [x for x in value if not isinstance(x, kind)]
            if bad:
                raise fail(f"a list of {kind.__name__}")
        return list(value)
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise fail("a mapping")
        return value
    return value


def _names(value: Any) -> list[str] | None:
    """The non-empty strings of a str or list-of-str value; None for any other value."""
    items = value if isinstance(value, list | tuple) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        return None
    return [v for v in items if v]


def _reference_kinds() -> dict[str, tuple[str, list[str]]]:
    """What a parameter can refer to: kind -> (what the error calls it, the known names)."""
    return {"model": ("model id", model_ids()), "task": ("task", list_tasks())}


def _check_references(name: str, value: Any, default: Any, notebook: str) -> None:
    """A parameter whose default names catalog models (or tasks) must name known ones.

    The kind is read from the default's values, not from the parameter's name, so this
    holds for every notebook. An empty string stays allowed ("none", e.g. no judge).
    """
    defaults, given = _names(default), _names(value)
    if not defaults or given is None:
        return
    for what, known in _reference_kinds().values():
        if all(d in known for d in defaults):
            unknown = [v for v in given if v not in known]
            if unknown:
                raise ParameterError(
                    f"parameter {name!r} of {notebook}: unknown {what} "
                    f"{', '.join(repr(u) for u in unknown)}; known: {', '.join(known)}"
                )
            return


def validate_parameters(path: str | Path, given: dict[str, Any]) -> dict[str, Any]:
    """Check overrides against the parameters cell; returns the full effective parameters.

    Unknown names, wrong types and unknown model ids or task names are errors here,
    before a kernel starts.
    """
    declared = notebook_parameters(path)
    name = Path(path).name
    unknown = [k for k in given if k not in declared]
    if unknown:
        raise ParameterError(
            f"{name} has no parameter {', '.join(repr(u) for u in unknown)}; "
            f"its parameters are: {', '.join(declared)}"
        )
    effective = {k: v["default"] for k, v in declared.items()}
    for key, value in given.items():
        effective[key] = _check_type(key, value, declared[key]["default"], name)
        _check_references(key, effective[key], declared[key]["default"], name)
    return effective


def parse_cli_value(raw: str, default: Any) -> Any:
    """A `-p NAME VALUE` string as the type its default has (YAML syntax for lists)."""
    import yaml

    if isinstance(default, str):
        # A quoted value ('' or "x") is unquoted: the way to pass an empty string without a shell.
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            return str(yaml.safe_load(raw))
        return raw
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
