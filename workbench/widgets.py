"""Interactive helpers for JupyterLab, with a static fallback for headless runs and reports."""

from __future__ import annotations

import html
import os

import pandas as pd


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.3f}"  # NaN: nothing to show
    return html.escape(str(value))


def outputs_table(df: pd.DataFrame, columns: list[str], limit: int = 20) -> str:
    """An HTML table of model outputs; every cell is escaped (model text is untrusted)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row[c])}</td>" for c in columns) + "</tr>"
        for _, row in df.head(limit).iterrows()
    )
    return f"<table class='wb-outputs'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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
    parts = []
    for name, messages in conversations.items():
        turns = "".join(
            f"<div><b>{html.escape(m['role'])}</b>: <span style='white-space: pre-wrap'>"
            f"{html.escape(m['content'])}</span></div>"
            for m in messages
        )
        parts.append(
            f"<details><summary>{html.escape(name)} ({len(messages)} messages)</summary>{turns}</details>"
        )
    return "".join(parts)


def code_block(lines: list[str]) -> str:
    """Lines of commands as an escaped, copyable <pre> block."""
    return "<pre class='wb-code'>" + "\n".join(html.escape(line) for line in lines) + "</pre>"
