"""The playground: one prompt (free text or a versioned template with its variables) sent to one
or more catalog models, answers side by side with tokens, latency, cost and cache hits; an
exchange worth keeping is saved as a case of a task set, the way from exploring into evaluating.

A model that fails shows its error in its own row; the others still answer. Answers come through
`generate_many`, so an identical second request is served from the response cache.
"""

from __future__ import annotations

import html
import json
import os
from typing import Any

import pandas as pd

from . import data, models, prompts
from .display import frame_html
from .errors import DataError, ParameterError
from .llm import Request, generate_many

FREE_TEXT = "(free text)"


def generative_models() -> list[str]:
    """Catalog ids that generate text and are available here."""
    return [r["id"] for r in models.catalog_rows() if r["kind"] != "embedding" and r["available"]]


def messages(template: str | None, variables: dict[str, Any], text: str = "") -> list[dict]:
    """Chat messages from a template and its variables, or from free text."""
    if not template or template == FREE_TEXT:
        if not text.strip():
            raise ParameterError("write a prompt, or choose a template")
        return [{"role": "user", "content": text}]
    t = prompts.load_template(template, track=False)
    values = {k: v for k, v in variables.items() if str(v).strip()}
    if text.strip() and "input" in t.variables and "input" not in values:
        values["input"] = text  # the prompt box fills a template's `input`
    missing = [v for v in t.variables if v not in values]
    if missing:
        raise ParameterError(f"template {t.name}: fill {', '.join(missing)}")
    return t.render({"id": "playground", **values})


def generate(
    model_ids: list[str], msgs: list[dict], max_tokens: int = 64, temperature: float = 0.0
) -> pd.DataFrame:
    """One row per model: answer, tokens, latency, cost, cache hit, error."""
    if not model_ids:
        raise ParameterError("choose at least one model")
    rows = []
    for model in model_ids:
        request = Request(messages=msgs, max_tokens=max_tokens, temperature=temperature)
        try:
            (resp,) = generate_many(model, [request], progress=False)
        except ValueError as exc:  # a model that cannot be used: its row says why
            rows.append({"model": model, "answer": "", "error": str(exc)})
            continue
        rows.append(
            {
                "model": model,
                "answer": resp.text,
                "prompt_tokens": resp.prompt_tokens,
                "completion_tokens": resp.completion_tokens,
                "latency_s": None if resp.cached else resp.latency_s,
                "cost_usd": 0.0 if resp.cached else resp.cost_usd,
                "cached": resp.cached,
                "error": resp.error,
            }
        )
    return pd.DataFrame(rows)


def save_case(task: str, prompt: str, reference: str, source: dict[str, Any]) -> dict[str, Any]:
    """Append a case (`input`, `reference`) to task set `task`; returns it with its new id."""
    if not reference.strip():
        raise ParameterError("a case needs a reference answer")
    t = data.load_task(task, track=False)
    path = data.tasks_dir() / f"{t.name}.jsonl"
    ids = {str(c["id"]) for c in t.cases}
    n = 1
    while f"{t.name}-pg-{n:03d}" in ids:
        n += 1
    case = {"id": f"{t.name}-pg-{n:03d}", "input": prompt, "reference": reference, "source": source}
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        raise DataError(f"{path}: the last line has no newline; fix the file before adding cases")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    return case


def playground(models_shown: list[str] | None = None):
    """The playground widget (a note under `workbench run`: it needs a person)."""
    from IPython.display import HTML

    if os.environ.get("WORKBENCH_HEADLESS"):
        return HTML(
            "<p><i>The playground is interactive: open this notebook in JupyterLab.</i></p>"
        )
    return _Playground(models_shown or generative_models()).box


class _Playground:
    def __init__(self, model_ids: list[str]):
        import ipywidgets as w

        self.models = w.SelectMultiple(options=model_ids, value=model_ids[:1], description="models")
        self.template = w.Dropdown(
            options=[FREE_TEXT, *prompts.list_templates()], description="template"
        )
        self.version = w.HTML()
        self.text = w.Textarea(placeholder="your prompt", description="prompt",
                               layout=w.Layout(width="90%"))  # fmt: skip # one widget
        self.fields = w.VBox()
        self.max_tokens = w.IntSlider(value=64, min=1, max=512, description="max tokens")
        self.temperature = w.FloatSlider(
            value=0.0, min=0.0, max=1.5, step=0.1, description="temperature"
        )
        self.go = w.Button(description="Generate", button_style="primary")
        self.answers = w.HTML()
        self.task = w.Dropdown(options=data.list_tasks(), description="task")
        self.reference = w.Text(
            placeholder="reference answer for the case", description="reference"
        )
        self.save = w.Button(description="Save as case")
        self.status = w.HTML()
        self.template.observe(self.on_template, "value")
        self.go.on_click(self.on_generate)
        self.save.on_click(self.on_save)
        self.last: list[dict] | None = None
        self.box = w.VBox([
            self.models, w.HBox([self.template, self.version]), self.fields, self.text,
            w.HBox([self.max_tokens, self.temperature]), self.go, self.answers,
            w.HBox([self.task, self.reference, self.save]), self.status,
        ])  # fmt: skip # the layout, row by row

    def on_template(self, change) -> None:
        import ipywidgets as w

        name = change["new"]
        if name == FREE_TEXT:
            self.version.value, self.fields.children = "", ()
            return
        t = prompts.load_template(name, track=False)
        self.version.value = f"version <code>{html.escape(t.version)}</code>"
        self.fields.children = tuple(
            w.Text(description=v, placeholder=f"value of {v}") for v in t.variables
        )

    def variables(self) -> dict[str, str]:
        return {f.description: f.value for f in self.fields.children}

    def on_generate(self, _=None) -> None:
        try:
            msgs = messages(self.template.value, self.variables(), self.text.value)
            table = generate(
                list(self.models.value), msgs, self.max_tokens.value, self.temperature.value
            )
        except ValueError as exc:
            self.status.value = f"<span style='color:#b42318'>{html.escape(str(exc))}</span>"
            return
        self.last = msgs
        self.answers.value = frame_html(table.set_index("model"))
        failed = int(table["error"].notna().sum())
        self.status.value = f"{len(table)} model(s) answered" + (
            f", {failed} failed" if failed else ""
        )

    def on_save(self, _=None) -> None:
        if not self.last:
            self.status.value = "generate first, then save"
            return
        prompt = self.last[-1]["content"]
        source = {
            "from": "playground",
            "template": self.template.value,
            "models": list(self.models.value),
        }
        try:
            case = save_case(self.task.value, prompt, self.reference.value, source)
        except ValueError as exc:
            self.status.value = f"<span style='color:#b42318'>{html.escape(str(exc))}</span>"
            return
        self.status.value = f"saved case <code>{html.escape(case['id'])}</code> to task {html.escape(self.task.value)}"
