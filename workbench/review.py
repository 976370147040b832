"""Human review in JupyterLab: one item at a time, decided with a click or from the keyboard,
each decision written to the labels file at once (`workbench.labels`).

Three kinds: `rubric` (a score on a scale), `pairwise` (A / B / tie, the two answers shown in an
order drawn per item and reviewer, and recorded), `decision` (accept / reject / edit a row,
with a reason). Keys: the score's digit, `a` / `b` / `t`, or `y` (accept) / `n` (reject) /
`e` (edit), typed in the key box and confirmed with Enter. Under `workbench run` (and in a
report) it is a static table of the items and their labels.
"""

from __future__ import annotations

import html
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .display import frame_html
from .labels import Clock, Label, LabelStore, fingerprint, reviewer_name

PAIR_KEYS = {"a": "A", "b": "B", "t": "tie"}
DECISION_KEYS = {"y": "accept", "n": "reject", "e": "edit"}


def shown_first(item: dict[str, Any], reviewer: str) -> str:
    """Which answer ("X" or "Y") is shown as A to this reviewer: drawn once, reproducibly."""
    return random.Random(f"{fingerprint(item)}:{reviewer}").choice(["X", "Y"])


def _field(name: str, value: Any) -> str:
    return (
        f"<div style='margin:.3rem 0'><b>{html.escape(name)}</b>"
        f"<div style='white-space:pre-wrap;border-left:3px solid #d0d7de;padding-left:.5rem'>"
        f"{html.escape(str(value))}</div></div>"
    )


def item_html(item: dict[str, Any], kind: str, fields: Sequence[str], first: str | None) -> str:
    """One item's fields, escaped; a pair's answers as A and B in the drawn order."""
    parts = [_field(f, item[f]) for f in fields if f in item]
    if kind == "pairwise":
        a, b = ("answer_x", "answer_y") if first == "X" else ("answer_y", "answer_x")
        parts += [_field("Answer A", item[a]), _field("Answer B", item[b])]
    return "".join(parts)


def static_table(store: LabelStore, reviewer: str | None = None) -> str:
    """The items with their latest labels, as an escaped table (headless runs, reports)."""
    latest = store.latest(reviewer)
    rows = [
        {
            "id": item["id"],
            "label": (latest.get(str(item["id"])) or {}).get("label"),
            "reviewer": (latest.get(str(item["id"])) or {}).get("reviewer"),
        }
        for item in store.items
    ]
    done = sum(r["label"] is not None for r in rows)
    note = f"<p>{done} of {len(rows)} item(s) labelled in <code>{html.escape(str(store.path))}</code>.</p>"
    return note + frame_html(pd.DataFrame(rows).set_index("id"))


def review(
    items: Sequence[dict[str, Any]],
    labels_path: str | Path,
    *,
    kind: str = "rubric",
    fields: Sequence[str] = ("question", "answer", "reference"),
    scale: tuple[int, int] = (1, 5),
    reviewer: str | None = None,
    edit_field: str = "reference",
):
    """A review widget over `items` (dicts with a unique `id`), writing to `labels_path`."""
    from IPython.display import HTML

    reviewer = reviewer or reviewer_name()
    store = LabelStore(labels_path, items, kind)
    if os.environ.get("WORKBENCH_HEADLESS"):
        return HTML(static_table(store))
    return _Review(store, kind, list(fields), scale, reviewer, edit_field).box


class _Review:
    def __init__(self, store, kind, fields, scale, reviewer, edit_field):
        import ipywidgets as w

        self.store, self.kind, self.fields = store, kind, fields
        self.reviewer, self.edit_field = reviewer, edit_field
        self.position = store.next_index(reviewer)
        self.clock = Clock()
        self.header, self.body, self.status = w.HTML(), w.HTML(), w.HTML()
        if kind == "rubric":
            choices = [str(v) for v in range(scale[0], scale[1] + 1)]
            self.keys = {c: int(c) for c in choices}
            hint = f"type {choices[0]}-{choices[-1]}, then Enter"
        elif kind == "pairwise":
            choices, self.keys, hint = ["A", "B", "tie"], PAIR_KEYS, "type a, b or t, then Enter"
        else:
            choices, self.keys = ["accept", "reject", "edit"], DECISION_KEYS
            hint = "type y (accept), n (reject) or e (edit), then Enter"
        self.buttons = [w.Button(description=c, tooltip=f"label: {c}") for c in choices]
        for b, c in zip(self.buttons, choices, strict=True):
            b.on_click(lambda _, c=c: self.decide(c if kind != "rubric" else int(c)))
        self.key = w.Text(placeholder=hint, description="key", continuous_update=False)
        self.key.observe(self.on_key, "value")
        self.reason = w.Text(placeholder="reason (optional)", description="reason")
        self.edited = w.Textarea(description="edited", layout=w.Layout(width="90%"))
        extra = [self.reason] + ([self.edited] if kind == "decision" else [])
        self.box = w.VBox(
            [self.header, self.body, w.HBox(self.buttons), self.key, *extra, self.status]
        )
        self.show()

    def current(self) -> dict[str, Any] | None:
        items = self.store.items
        return items[self.position] if self.position < len(items) else None

    def show(self) -> None:
        item, total = self.current(), len(self.store.items)
        if item is None:
            self.header.value = (
                f"<b>All {total} item(s) labelled</b> by {html.escape(self.reviewer)}."
            )
            self.body.value = ""
            for b in self.buttons:
                b.disabled = True
            return
        self.first = shown_first(item, self.reviewer) if self.kind == "pairwise" else None
        self.header.value = (
            f"<b>Item {self.position + 1} of {total}</b> ({html.escape(str(item['id']))}) · "
            f"reviewer {html.escape(self.reviewer)} · labels: <code>{html.escape(str(self.store.path))}</code>"
        )
        self.body.value = item_html(item, self.kind, self.fields, self.first)
        self.edited.value = str(item.get(self.edit_field, ""))
        self.clock = Clock()

    def on_key(self, change) -> None:
        key = (change["new"] or "").strip().lower()
        if not key:
            return
        self.key.value = ""
        if key not in self.keys:
            self.status.value = (
                f"<span style='color:#b42318'>no shortcut {html.escape(key)!r}</span>"
            )
            return
        self.decide(self.keys[key])

    def decide(self, choice: Any) -> None:
        item = self.current()
        if item is None:
            return
        label = choice
        if self.kind == "pairwise" and choice in ("A", "B"):
            other = "Y" if self.first == "X" else "X"
            label = self.first if choice == "A" else other
        try:
            self.store.add(
                Label(
                    str(item["id"]),
                    label,
                    self.reviewer,
                    seconds=self.clock.lap(),
                    reason=self.reason.value.strip(),
                    edited=self.edited.value if label == "edit" else None,
                    shown_first=self.first,
                )
            )
        except ValueError as exc:  # a WorkbenchError: shown in the widget, nothing written
            self.status.value = f"<span style='color:#b42318'>{html.escape(str(exc))}</span>"
            return
        self.status.value = f"saved {html.escape(str(item['id']))}: {html.escape(str(label))}"
        self.reason.value = ""
        self.position = self.store.next_index(self.reviewer)
        self.show()
