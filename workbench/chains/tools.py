"""The built-in tools an agent may call, each registered with a JSON schema for its arguments
(checked before the tool runs: see `registry.call_tool`).

- `kb_search`: BM25 over the HR knowledge base (`datasets/kb/`), the passages with their ids.
- `calculator`: arithmetic on numbers (+ - * / // % ** and parentheses), nothing else.
- `days_between` / `add_days`: calendar arithmetic on ISO dates.
- `leave_balance`: one employee's row of `datasets/hr/leave_balances.csv`, with the days left.
"""

from __future__ import annotations

import ast
import csv
import functools
import operator
from datetime import date, timedelta
from typing import Any

from .. import config, registry, tracking

KB_CORPUS = "kb"
HR_TABLE = "hr/leave_balances.csv"


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def corpus_index(corpus: str, chunker: str = "fixed", size: int = 128, overlap: int = 0):
    """The search index of a corpus under `datasets/`, built once per process and settings
    (the knowledge-base tool and a chain's retrieve step share it)."""
    return _index(str(config.datasets_dir()), corpus, chunker, size, overlap)


@functools.cache
def _index(root: str, corpus: str, chunker: str, size: int, overlap: int):
    from ..rag import Index, chunk_corpus, load_corpus

    return Index.build(chunk_corpus(load_corpus(f"{root}/{corpus}"), chunker, size, overlap))


@registry.tool(
    "kb_search",
    description="search the HR knowledge base; returns the best passages with their ids",
    schema=_schema(
        {
            "query": {"type": "string", "minLength": 1},
            "k": {"type": "integer", "minimum": 1, "maximum": 10},
        },
        ["query"],
    ),
)
def kb_search(query: str, k: int = 3) -> list[dict[str, str]]:
    hits = corpus_index(KB_CORPUS).search([query], "bm25", k)[0]
    return [{"id": h.chunk.id, "text": h.chunk.text} for h in hits]


_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 100:
            raise ValueError("exponent too large (at most 100)")
        return _OPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.operand))
    raise ValueError(f"not arithmetic: {ast.unparse(node)!r}")


@registry.tool(
    "calculator",
    description="evaluate an arithmetic expression, e.g. '27 + 3 - 12.5'",
    schema=_schema({"expression": {"type": "string", "minLength": 1}}, ["expression"]),
)
def calculator(expression: str) -> float | int:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from None
    value = _evaluate(tree)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO date (YYYY-MM-DD)") from None


DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


@registry.tool(
    "days_between",
    description="calendar days from one ISO date to another (negative when end is earlier)",
    schema=_schema({"start": DATE, "end": DATE}, ["start", "end"]),
)
def days_between(start: str, end: str) -> int:
    return (_date(end, "end") - _date(start, "start")).days


@registry.tool(
    "add_days",
    description="the ISO date a number of calendar days after (or before) a date",
    schema=_schema({"date": DATE, "days": {"type": "integer"}}, ["date", "days"]),
)
def add_days(date: str, days: int) -> str:
    return (_date(date, "date") + timedelta(days=days)).isoformat()


def hr_table() -> list[dict[str, Any]]:
    """The HR table's rows, numbers as numbers, with `annual_leave_left` added."""
    path = config.datasets_dir() / HR_TABLE
    tracking.current().log_dataset(path)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for key in ("annual_leave_entitlement", "annual_leave_taken", "carried_over"):
            r[key] = int(r[key])
        r["sick_days_taken"] = int(r["sick_days_taken"])
        r["annual_leave_left"] = (
            r["annual_leave_entitlement"] + r["carried_over"] - r["annual_leave_taken"]
        )
    return rows


@registry.tool(
    "leave_balance",
    description="an employee's leave record by id (E1001) or full name: entitlement, taken, "
    "carried over, days left, sick days, start date",
    schema=_schema({"employee": {"type": "string", "minLength": 1}}, ["employee"]),
)
def leave_balance(employee: str) -> dict[str, Any]:
    wanted = employee.strip().lower()
    for row in hr_table():
        if wanted in (row["employee_id"].lower(), row["name"].lower()):
            return row
    raise ValueError(f"no employee {employee!r} in the HR table")


def describe(names: list[str] | None = None) -> list[dict[str, Any]]:
    """Registered tools (`names`, default all) as the OpenAI tools API lists them: name,
    description and the JSON schema of the arguments."""
    return [
        {
            "type": "function",
            "function": {
                "name": e.name,
                "description": e.description,
                "parameters": e.info.get("schema") or {"type": "object", "properties": {}},
            },
        }
        for e in registry.entries("tool")
        if names is None or e.name in names
    ]
