"""workbench.display: tables read "—" for missing values, yes/no for booleans, never raw Python."""

import numpy as np
import pandas as pd
import pytest

from workbench import display


@pytest.mark.unit
def test_missing_values_booleans_and_lists_read_for_people():
    df = pd.DataFrame(
        {
            "model": ["a", "b"],
            "quality": [0.5, np.nan],
            "pareto": [True, False],
            "doc_ids": [["x", "y"], []],
            "note": [None, "<b>hi</b>"],
        }
    ).set_index("model")
    html = display.frame_html(df)
    for raw in (">nan<", ">NaN<", ">None<", ">True<", ">False<", "['x'", "<b>hi"):
        assert raw not in html, raw
    assert ">—<" in html and ">yes<" in html and ">no<" in html and ">x, y<" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html  # escaped
    assert display.MISSING_NOTE in html  # the dash is explained under the table


@pytest.mark.unit
def test_one_number_of_decimals_per_column_and_numbers_marked_for_no_wrapping():
    df = pd.DataFrame({"ci_low": [0.2, 0.25], "n": [3, 4], "latency": [None, 1.5]})
    html = display.frame_html(df)
    assert ">0.200<" in html and ">0.250<" in html  # not "0.2" beside "0.25"
    assert "<td class='num'>3</td>" in html
    assert "<td class='num'>—</td>" in html and "<td class='num'>1.500</td>" in html


@pytest.mark.unit
def test_headers_break_at_underscores_not_mid_word():
    html = display.frame_html(pd.DataFrame({"cost_per_1k_requests_usd": [1.0]}))
    assert "cost_<wbr>per_<wbr>1k_<wbr>requests_<wbr>usd" in html


@pytest.mark.unit
def test_install_is_harmless_outside_ipython():
    display.install()  # no IPython shell here: nothing happens, nothing raises
