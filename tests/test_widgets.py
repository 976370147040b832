"""workbench.widgets: everything a model or an attacker wrote is escaped."""

import pandas as pd
import pytest

from workbench import widgets

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.mark.unit
def test_outputs_table_and_code_block_escape_cells():
    df = pd.DataFrame([{"attack": PAYLOAD, "score": float("nan")}])
    html = widgets.outputs_table(df, ["attack", "score"])
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<td class='txt short'>—</td>" in html  # a missing score reads "—", never "nan"
    block = widgets.code_block(["workbench fuzz replay run 'x/<b>'"])
    assert block.startswith("<pre") and "&lt;b&gt;" in block and "<b>" not in block


@pytest.mark.unit
def test_messages_html_escapes_roles_and_content():
    html = widgets.messages_html({"v<1>": [{"role": "user", "content": PAYLOAD}]})
    assert "<img" not in html and "v&lt;1&gt;" in html


@pytest.mark.unit
def test_trace_html_shows_values_as_written_and_escaped():
    child = {
        "name": "guard",
        "start_ns": 0,
        "end_ns": 1000,
        "children": [],
        "attributes": {"workbench.guard.reasons": ["pattern: 'pretend you are'", "é"]},
    }
    root = {
        "name": "chain <app>",
        "start_ns": 0,
        "end_ns": 2_000_000,
        "children": [child],
        "attributes": {"workbench.request.input": "<script>alert(1)</script>"},
    }
    html = widgets.trace_html([root])
    assert "<script>" not in html and "&lt;script&gt;" in html and "chain &lt;app&gt;" in html
    assert "\\u0027" not in html and "pretend you are" in html and "é" in html
