"""Helpers shared by the benchmarks: one JSON line per benchmark on stdout."""

from __future__ import annotations

import json


def report(name: str, value: float, unit: str, goal: str, **details) -> None:
    """Print the benchmark's result line: {"name", "value", "unit", "goal", ...details}."""
    print(
        json.dumps({"name": name, "value": round(value, 3), "unit": unit, "goal": goal, **details}),
        flush=True,
    )
