"""workbench: offline, reproducible LLM experimentation behind parameterised notebooks."""

from . import (
    config,
    data,
    discovery,
    display,
    embeddings,
    experiment,
    filters,
    fuzz,
    guard,
    judge,
    metrics,
    models,
    notebook,
    pii,
    plots,
    prompts,
    rag,
    stats,
    synth,
    tracking,
    widgets,
)
from .cache import ResponseCache
from .data import Task, load_task
from .llm import Request, Response, generate, generate_many, get_provider
from .metrics import MetricResult, score
from .models import get_model, load_catalog
from .notebook import run_health, start_run
from .prompts import load_template
from .reports import run_notebook
from .tracking import current as current_run

__version__ = "0.1.0"

__all__ = [
    "MetricResult",
    "Request",
    "Response",
    "ResponseCache",
    "Task",
    "config",
    "current_run",
    "data",
    "discovery",
    "display",
    "embeddings",
    "experiment",
    "filters",
    "fuzz",
    "guard",
    "generate",
    "generate_many",
    "get_model",
    "get_provider",
    "judge",
    "load_catalog",
    "load_task",
    "load_template",
    "metrics",
    "models",
    "notebook",
    "plots",
    "pii",
    "prompts",
    "rag",
    "run_health",
    "run_notebook",
    "score",
    "start_run",
    "stats",
    "synth",
    "tracking",
    "widgets",
]
