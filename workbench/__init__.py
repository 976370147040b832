"""workbench: offline, reproducible LLM experimentation behind parameterised notebooks.

The face is short and lazy (PEP 562): `import workbench` loads nothing else; a subpackage or
a name below loads on first use, so `workbench --help` does not pay for torch or pandas.

    import workbench as wb
    wb.start_run(max_error_rate=0.0)          # what a notebook calls first
    task = wb.load_task("qa")
    replies = wb.generate_many("smollm2-135m-instruct", [wb.Request.from_prompt("Hi")])
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> (module, attribute): the few functions and types a notebook reaches for first.
_NAMES = {
    "Request": ("workbench.llm", "Request"),
    "Response": ("workbench.llm", "Response"),
    "generate": ("workbench.llm", "generate"),
    "generate_many": ("workbench.llm", "generate_many"),
    "get_provider": ("workbench.llm", "get_provider"),
    "ResponseCache": ("workbench.cache", "ResponseCache"),
    "Task": ("workbench.data", "Task"),
    "load_task": ("workbench.data", "load_task"),
    "MetricResult": ("workbench.metrics", "MetricResult"),
    "score": ("workbench.metrics", "score"),
    "get_model": ("workbench.models", "get_model"),
    "load_catalog": ("workbench.models", "load_catalog"),
    "start_run": ("workbench.notebook", "start_run"),
    "run_health": ("workbench.notebook", "run_health"),
    "load_template": ("workbench.prompts", "load_template"),
    "run_notebook": ("workbench.reports", "run_notebook"),
    "current_run": ("workbench.tracking", "current"),
}
# Modules and subpackages reachable as attributes (`wb.plots.quality_vs`).
_MODULES = (
    "adapters",
    "app",
    "augment",
    "cache",
    "calibration",
    "chains",
    "cli",
    "comparison",
    "config",
    "cpu",
    "data",
    "discovery",
    "display",
    "documents",
    "embeddings",
    "errors",
    "executors",
    "experiment",
    "exporters",
    "filters",
    "fuzz",
    "io",
    "judge",
    "labels",
    "llm",
    "loadtest",
    "metrics",
    "models",
    "monitor",
    "notebook",
    "params",
    "playground",
    "plots",
    "progress",
    "prompts",
    "rag",
    "registry",
    "report_html",
    "reports",
    "review",
    "runs",
    "safety",
    "serving",
    "stats",
    "sweep",
    "synth",
    "trace",
    "tracking",
    "tune",
    "widgets",
)

__all__ = sorted([*_NAMES, *_MODULES])


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        module, attr = _NAMES[name]
        value = getattr(importlib.import_module(module), attr)
    elif name in _MODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
