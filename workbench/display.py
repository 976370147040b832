"""How tables read in notebooks and reports: for a stakeholder, not a Python prompt.

Missing values read "—", booleans "yes"/"no", lists as comma-separated text, floats with one
number of decimals per column; long headers break at underscores, never mid-word; numbers
never wrap. Every cell is escaped (model and user text is untrusted).
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from .pages import render

MISSING = "—"
MISSING_NOTE = (
    f"{MISSING} marks a value that was not measured or does not apply "
    "(a failed call, an unmeasured cached answer, or a setting not used); the text above says which."
)


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def format_value(value: Any, decimals: int | None = None) -> str:
    """One cell as text (not escaped)."""
    if isinstance(value, list | tuple | set | np.ndarray):
        items = [format_value(v) for v in value]
        return ", ".join(items) if items else MISSING
    if is_missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        d = 3 if decimals is None else decimals
        if abs(value) >= 1_000:
            return f"{value:,.{min(d, 1)}f}"
        if value and abs(value) < 0.5 * 10**-d:  # would read 0.000: show its first digits
            return f"{value:.2g}"
        return f"{value:.{d}f}"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def is_numeric(values: pd.Series) -> bool:
    """True for a column of numbers (missing values allowed), whatever its dtype."""
    present = [v for v in values if not is_missing(v)]
    return bool(present) and all(_is_number(v) for v in present)


def _column(values: pd.Series) -> list[str]:
    present = [v for v in values if not is_missing(v)]
    if present and all(isinstance(v, float | np.floating) for v in present):
        # One number of decimals per column: none for counts, else three. A column of only
        # 0.0 and 1.0 is a rate or share at its bounds, not a count.
        whole = all(float(v).is_integer() for v in present)
        d = 0 if whole and any(abs(v) > 1 for v in present) else 3
        return [format_value(v, d) for v in values]
    return [format_value(v) for v in values]


def header_html(name: Any) -> Markup:
    """A column header, escaped, that may break at underscores (never mid-word)."""
    text = format_value(name) if not isinstance(name, tuple) else " / ".join(map(str, name))
    return Markup(html.escape(text).replace("_", "_<wbr>"))


def table_html(
    headers: list[tuple[str, Any]],
    rows: list[list[tuple[str, str, Any]]],
    *,
    table_class: str,
    notes: list[str] = (),
) -> str:
    """An escaped HTML table: headers as (class, text), cells as (tag, class, text)."""
    return render(
        "table.html.j2", headers=headers, rows=rows, table_class=table_class, notes=list(notes)
    )


def frame_html(df: pd.DataFrame, max_rows: int = 200) -> str:
    """A DataFrame as a readable, escaped HTML table (the notebook's display of every frame)."""
    shown = df.head(max_rows)
    index_names = [n for n in shown.index.names if n is not None]
    has_index = bool(index_names) or not isinstance(shown.index, pd.RangeIndex)
    heads = [*(index_names or ([""] if has_index else [])), *shown.columns]
    index_cols = []
    if has_index:
        index_frame = shown.index.to_frame(index=False)
        index_cols = [_column(index_frame[c]) for c in index_frame.columns]
    cols = [_column(shown[c]) for c in shown.columns]
    numeric = [is_numeric(shown[c]) for c in shown.columns]
    rows = [
        [("th", "", col[i]) for col in index_cols]
        + [("td", "num" if num else "txt", col[i]) for col, num in zip(cols, numeric, strict=True)]
        for i in range(len(shown))
    ]
    kinds = [""] * (len(heads) - len(numeric)) + ["num" if n else "" for n in numeric]
    headers = [(k, header_html(h)) for h, k in zip(heads, kinds, strict=True)]
    notes = []
    if len(df) > max_rows:
        notes.append(f"{max_rows} of {len(df)} rows shown.")
    if any(MISSING in c for col in cols + index_cols for c in col):
        notes.append(MISSING_NOTE)
    return table_html(headers, rows, table_class="dataframe", notes=notes)


def install() -> None:
    """Show every DataFrame in this IPython kernel through `frame_html` (no-op outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, frame_html)
    formatter.for_type(pd.Series, lambda s: frame_html(s.to_frame()))
