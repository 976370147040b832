"""Interactive helpers for JupyterLab, with a static fallback for headless runs and reports."""

from __future__ import annotations

import os
from html import escape as html_escape
from pathlib import Path

import pandas as pd

from .display import _is_number, format_value, frame_html, header_html, is_missing, table_html
from .pages import render
from .playground import playground  # noqa: F401  (wb.widgets.playground)
from .review import review  # noqa: F401  (wb.widgets.review: the review widget)

# Cells up to this many characters stay on one line.
SHORT = 24


def _cell(value) -> tuple[str, str, str]:
    text = format_value(value)
    if _is_number(value) and not is_missing(value):
        kind = "num"
    else:  # short labels (ids, names, "—") never break; long text wraps at word boundaries
        kind = "txt short" if len(text) <= SHORT else "txt"
    return ("td", kind, text)


def outputs_table(df: pd.DataFrame, columns: list[str], limit: int = 20) -> str:
    """An HTML table of model outputs; every cell is escaped (model text is untrusted).

    Missing values read "—", booleans yes/no, as in every other table of a report.
    """
    rows = [[_cell(row[c]) for c in columns] for _, row in df.head(limit).iterrows()]
    notes = [f"{limit} of {len(df)} rows shown."] if len(df) > limit else []
    headers = [("", header_html(c)) for c in columns]
    return table_html(headers, rows, table_class="wb-outputs", notes=notes)


def output_browser(df: pd.DataFrame, columns: list[str] | None = None, limit: int = 20):
    """Dropdowns over model and task showing answers side by side with references.

    Under `workbench run` (headless) it returns a static, escaped table instead.
    """
    from IPython.display import HTML

    columns = columns or ["model", "task", "case_id", "output", "reference", "score"]
    if os.environ.get("WORKBENCH_HEADLESS"):
        return HTML(outputs_table(df, columns, limit))
    import ipywidgets as w

    model = w.Dropdown(options=sorted(df["model"].unique()), description="model")
    task = w.Dropdown(options=sorted(df["task"].unique()), description="task")
    out = w.HTML()

    def refresh(*_):
        sel = df[(df["model"] == model.value) & (df["task"] == task.value)]
        out.value = outputs_table(sel, columns, limit)

    model.observe(refresh, "value")
    task.observe(refresh, "value")
    refresh()
    return w.VBox([w.HBox([model, task]), out])


def messages_html(conversations: dict[str, list[dict[str, str]]]) -> str:
    """Chat messages per variant as escaped HTML (prompts may quote untrusted data)."""
    return render("messages.html.j2", conversations=list(conversations.items()))


def code_block(lines: list[str]) -> str:
    """Lines of commands as an escaped, copyable <pre> block."""
    return render("code.html.j2", lines=lines)


def trajectory_html(run, title: str) -> str:
    """A chain's or agent's run as a tree: one node per step with its input, output, tokens,
    cost and error, each with its latency; every value escaped."""
    children, start = [], 0
    for n, s in enumerate(run.steps, 1):
        took = int((s.latency_s or 0.0) * 1e9)
        attrs = {"input": s.input, "output": s.output, "tokens": s.tokens, "cost_usd": s.cost_usd}
        if s.cached:
            attrs["cached"] = "answered from the response cache (latency not measured now)"
        if s.error:
            attrs["error"] = s.error
        children.append(
            {
                "name": f"{n}. {s.kind} {s.name}",
                "start_ns": start,
                "end_ns": start + took,
                "status": "ERROR" if s.error else "UNSET",
                "attributes": attrs,
                "children": [],
            }
        )
        start += took
    root = {
        "name": title,
        "start_ns": 0,
        "end_ns": start,
        "status": "UNSET" if run.stopped == "answer" else "ERROR",
        "attributes": {"question": run.question, "answer": run.answer, "stopped": run.stopped},
        "children": children,
    }
    return trace_html([root])


def trace_html(roots: list[dict]) -> str:
    """A trace as a tree of spans (name, duration, attributes), every value escaped."""
    import json

    def shown(span: dict) -> dict:
        # Values as their reader wrote them (JSON for lists, unescaped quotes and accents);
        # the template escapes them for HTML.
        attrs = {
            k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            for k, v in span["attributes"].items()
        }
        return {**span, "attributes": attrs, "children": [shown(c) for c in span["children"]]}

    return render("trace.html.j2", roots=[shown(r) for r in roots])


def _comparison_html(a, b, threshold: float) -> str:
    from .comparison import compare

    try:
        parts = compare(a, b, threshold)
    except ValueError as exc:  # runs of two notebooks, a folder that is not a run
        return f"<p style='color:#b42318'>{html_escape(str(exc))}</p>"
    flips = parts["flipped"]
    sections = [
        ("Runs", frame_html(parts["runs"].set_index("run"))),
        ("Parameters that differ", frame_html(parts["parameters"].set_index("parameter"))
         if len(parts["parameters"]) else "<p>None: the same parameters.</p>"),
        ("Headline metrics (change = B - A)", frame_html(parts["metrics"].set_index("metric"))),
        (f"Cases whose score moved by {threshold:g} or more ({len(flips)})",
         outputs_table(flips, list(flips.columns), limit=50) if len(flips) else "<p>None.</p>"),
    ]  # fmt: skip # one entry per section
    return "".join(f"<h4>{html_escape(t)}</h4>{body}" for t, body in sections)


def compare_runs(notebook: str | None = None, threshold: float = 0.25, root=None):
    """Pick two runs of one notebook from `reports/` and see what changed between them.

    Under `workbench run` (and in a report) it compares the notebook's two newest runs, static.
    """
    from IPython.display import HTML

    from . import runs
    from .comparison import run_choices

    notebooks = sorted({Path(r.get("notebook", "?")).stem for r in runs.list_runs(root)})
    if not notebooks:
        return HTML("<p>No runs in reports/ yet.</p>")
    notebook = notebook if notebook in notebooks else notebooks[0]
    if os.environ.get("WORKBENCH_HEADLESS"):
        choices = run_choices(notebook, root)
        if len(choices) < 2:
            return HTML(f"<p>{notebook} has {len(choices)} run(s): two are needed to compare.</p>")
        return HTML(_comparison_html(choices[1][1], choices[0][1], threshold))
    import ipywidgets as w

    pick = w.Dropdown(options=notebooks, value=notebook, description="notebook")
    run_a, run_b = w.Dropdown(description="run A"), w.Dropdown(description="run B")
    moved = w.FloatSlider(value=threshold, min=0.05, max=1.0, step=0.05, description="flip at")
    button, out = w.Button(description="Compare"), w.HTML()

    def refill(*_):
        choices = run_choices(pick.value, root)
        run_a.options, run_b.options = choices, choices
        if len(choices) >= 2:
            run_a.value, run_b.value = choices[1][1], choices[0][1]

    def show(*_):
        if run_a.value is None or run_b.value is None:
            out.value = "<p>Choose two runs.</p>"
            return
        out.value = _comparison_html(run_a.value, run_b.value, moved.value)

    pick.observe(refill, "value")
    button.on_click(show)
    refill()
    show()
    return w.VBox([pick, w.HBox([run_a, run_b]), w.HBox([moved, button]), out])
