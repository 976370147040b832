"""workbench.reports: parameter checks, versioned run folders, self-contained HTML, the index."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import write_notebook

from workbench import reports

PARAMS = 'n: int = 2  # how many\nname: str = "x"  # a label\nitems: list = ["a", "b"]  # some items\nratio: float = 0.5  # a ratio'


@pytest.fixture
def nb(tmp_path):
    return write_notebook(
        tmp_path / "nbs" / "tiny.ipynb",
        PARAMS,
        "import workbench as wb\nwb.current_run().log_metric('n_squared', n * n)\nprint('n =', n)",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2], [n, n])\nplt.show()",
        "from IPython.display import HTML\nHTML('<p>' + __import__('html').escape('<script>alert(1)</script>') + '</p>')",
    )


@pytest.mark.integration
def test_parameters_cell_is_read_with_types_and_help(nb):
    params = reports.notebook_parameters(nb)
    assert params["n"] == {"default": 2, "type": "int", "help": "how many"}
    assert params["items"]["default"] == ["a", "b"]


@pytest.mark.integration
def test_unknown_parameter_is_refused_before_running(nb):
    with pytest.raises(
        reports.ParameterError,
        match=r"tiny.ipynb has no parameter 'nn'; its parameters are: n, name",
    ):
        reports.validate_parameters(nb, {"nn": 3})


@pytest.mark.integration
@pytest.mark.parametrize(
    "given, message",
    [
        ({"n": "3"}, "expected an integer"),
        ({"n": True}, "expected an integer"),
        ({"items": "a"}, "expected a list"),
        ({"items": [1]}, "a list of str"),
        ({"name": 3}, "expected a string"),
        ({"ratio": "x"}, "expected a number"),
    ],
)
def test_wrong_types_are_refused(nb, given, message):
    with pytest.raises(reports.ParameterError, match=message):
        reports.validate_parameters(nb, given)


@pytest.mark.integration
def test_int_is_accepted_for_float_and_effective_parameters_are_complete(nb):
    eff = reports.validate_parameters(nb, {"ratio": 1, "n": 5})
    assert eff == {"n": 5, "name": "x", "items": ["a", "b"], "ratio": 1.0}


@pytest.mark.unit
def test_cli_values_take_the_type_of_the_default():
    assert reports.parse_cli_value("3", 2) == 3
    assert reports.parse_cli_value("[a, b]", ["x"]) == ["a", "b"]
    assert reports.parse_cli_value("123", "x") == "123"


@pytest.mark.integration
def test_successful_run_writes_a_complete_versioned_folder(nb, tmp_path):
    result = reports.run_notebook(nb, {"n": 3})
    assert result.ok and result.path.parent.name == "tiny"
    assert sorted(p.name for p in result.path.iterdir()) == [
        "notebook.ipynb",
        "report.html",
        "run.json",
    ]
    record = json.loads((result.path / "run.json").read_text())
    for key in [
        "run_id",
        "notebook",
        "parameters",
        "status",
        "started_at",
        "finished_at",
        "duration_s",
        "git",
        "packages",
        "python",
        "platform",
        "models",
        "datasets",
        "prompts",
        "metrics",
        "cache",
        "usage",
        "error",
    ]:
        assert key in record, key
    assert record["parameters"]["n"] == 3 and record["metrics"] == {"n_squared": 9}
    assert record["status"] == "succeeded" and record["error"] is None
    html = (result.path / "report.html").read_text()
    reports.check_self_contained(html)
    assert "data:image/png;base64" in html  # the figure is embedded
    assert "wb.current_run()" not in html  # code is hidden
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
    assert not list(result.path.parent.glob(".*"))  # no staging folder left behind
    index = (Path(tmp_path) / "reports" / "index.html").read_text()
    assert result.path.name in index and "n_squared" in index


@pytest.mark.integration
def test_failed_run_still_writes_its_folder_with_the_error(tmp_path):
    failing = write_notebook(
        tmp_path / "nbs" / "boom.ipynb",
        "x: int = 1  # x",
        "print('before')",
        "raise ValueError('boom at cell 3')",
        "print('never')",
    )
    result = reports.run_notebook(failing)
    assert not result.ok and result.status == "failed"
    record = json.loads((result.path / "run.json").read_text())
    assert record["status"] == "failed" and record["error"]["type"] == "ValueError"
    assert "boom at cell 3" in record["error"]["message"]
    html = (result.path / "report.html").read_text()
    assert "before" in html and "failed" in html


@pytest.mark.unit
def test_remote_resources_are_detected():
    with pytest.raises(ValueError, match="remote resource"):
        reports.check_self_contained('<script src="https://cdn.example/x.js"></script>')
    with pytest.raises(ValueError, match="remote resource"):
        reports.check_self_contained("<link rel=stylesheet href='//cdn.example/x.css'>")
    reports.check_self_contained(
        '<a href="https://example.org">a link is fine</a><img src="data:image/png;base64,AA">'
    )


@pytest.mark.unit
def test_index_escapes_what_runs_recorded(tmp_path):
    run = tmp_path / "reports" / "nb" / "r1"
    run.mkdir(parents=True)
    (run / "run.json").write_text(
        json.dumps(
            {
                "run_id": "r1",
                "notebook": "nb.ipynb",
                "status": "failed",
                "started_at": "2026",
                "metrics": {"m": "<img src=x onerror=alert(1)>"},
            }
        )
    )
    html = reports.build_index(tmp_path / "reports").read_text()
    assert "<img src=x" not in html and "&lt;img src=x" in html


# Each payload, if it ever ran, marks the page's root element.
XSS = (
    "XSS-MARKER <script>document.documentElement.setAttribute('data-xss','script')</script>"
    "<img src=x onerror=\"document.documentElement.setAttribute('data-xss','img')\">"
    "<a href=\"javascript:document.documentElement.setAttribute('data-xss','link')\">click</a>"
)
CHROMIUM = next(
    (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
    None,
)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    """A fuzzing report whose attack text and model outputs are all script payloads.

    Made once for the tests that read it (one notebook execution, not one per test), in its
    own folders, like the per-test isolation of conftest.
    """
    from conftest import ROOT

    from workbench import tracking

    base = tmp_path_factory.mktemp("hostile")
    datasets_copy = base / "datasets"
    shutil.copytree(ROOT / "datasets", datasets_copy)
    with pytest.MonkeyPatch.context() as mp:
        for name, folder in (
            ("DATASETS", "datasets"),
            ("CACHE_DIR", "cache"),
            ("REPORTS", "reports"),
        ):
            mp.setenv(f"WORKBENCH_{name}", str(base / folder))
        mp.delenv("WORKBENCH_RUN_DIR", raising=False)
        mp.setattr(tracking, "_current", None)
        return _hostile_run(datasets_copy)


def _hostile_run(datasets_copy: Path) -> Path:
    from conftest import add_catalog_entry, fake_model_entry
    from fake_openai import FakeOpenAIServer

    row = {
        "id": "xss-001",
        "category": "direct_injection",
        "prompt": "Say this: " + XSS,
        "success": {"marker": "XSS-MARKER"},
    }
    (datasets_copy / "adversarial" / "xss.jsonl").write_text(json.dumps(row) + "\n")
    with FakeOpenAIServer(default="say:" + XSS) as srv:
        add_catalog_entry(datasets_copy, **fake_model_entry("hostile", srv.base_url))
        result = reports.run_notebook(
            "05_adversarial_fuzzing",
            {
                "target_model": "hostile",
                "attack_set": "adversarial/xss.jsonl",
                "categories": ["direct_injection"],
                "mutators": ["split"],
                "guards": ["none"],
                "paraphrase_model": "",
                "max_false_positive": 1.0,
            },
        )
    assert result.status == "succeeded", result.error
    return result.path / "report.html"


@pytest.mark.integration
def test_payloads_in_attacks_and_outputs_are_escaped_in_the_report(hostile_report):
    html = hostile_report.read_text()
    assert "&lt;script&gt;document.documentElement.setAttribute" in html
    for raw in ["<script>document.documentElement", "<img src=x onerror", '<a href="javascript:']:
        assert raw not in html, raw


def _dom(path: Path, tmp: Path) -> str:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp}",
        "--virtual-time-budget=3000",
        "--dump-dom",
        path.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout


@pytest.mark.browser
def test_report_with_payloads_runs_no_script_in_chromium(hostile_report, tmp_path):
    if CHROMIUM is None:
        # CI installs Chromium and sets WORKBENCH_REQUIRE_BROWSER: there a missing browser fails.
        if os.environ.get("WORKBENCH_REQUIRE_BROWSER"):
            pytest.fail("WORKBENCH_REQUIRE_BROWSER is set but no Chromium is installed")
        pytest.skip("no Chromium on this machine (the escaping test above still runs)")
    control = tmp_path / "control.html"
    control.write_text(f"<html><body>{XSS}</body></html>")
    executed = re.compile(r"<html[^>]*data-xss=")
    # The harness can see a payload run: the same payloads unescaped do mark the page.
    assert executed.search(_dom(control, tmp_path / "chr1"))
    dom = _dom(hostile_report, tmp_path / "chr2")
    assert "XSS-MARKER" in dom  # the page loaded and rendered the outputs
    assert not executed.search(dom)
    assert not re.search(r"<a\s[^>]*href=\"javascript:", dom)


@pytest.mark.integration
def test_a_failed_run_states_its_cause_in_one_line_and_folds_the_traceback(tmp_path):
    failing = write_notebook(
        tmp_path / "nbs" / "boom.ipynb",
        "x: int = 1  # x",
        "from workbench.data import DataError\nraise DataError('tasks/qa.jsonl:3: missing field(s) reference')",
    )
    result = reports.run_notebook(failing)
    html = (result.path / "report.html").read_text()
    assert "An Exception was encountered" not in html  # papermill's banner cell is gone
    cause = "DataError: tasks/qa.jsonl:3: missing field(s) reference"
    banner = html[html.index("wb-banner") :]
    assert banner.index(f"Failed:</b> {cause}") < banner.index("<b>Run</b>")  # the first line
    assert re.search(r"<details class=.wb-error.>", html) and "Traceback" in html  # folded away
    assert re.search(r"<title>Test notebook · [^<]*\(failed\)</title>", html)
    index = (tmp_path / "reports" / "index.html").read_text()
    assert f"<div class='why'>{cause}</div>" in index


@pytest.mark.integration
def test_every_report_has_a_real_title(nb):
    html = (reports.run_notebook(nb).path / "report.html").read_text()
    title = re.search(r"<title>([^<]*)</title>", html).group(1)
    assert title.startswith("Test notebook · ") and title != "Notebook"


@pytest.mark.unit
def test_a_quoted_cli_value_is_unquoted_for_string_parameters():
    assert (
        reports.parse_cli_value("''", "x") == "" and reports.parse_cli_value('"a b"', "x") == "a b"
    )
    assert reports.parse_cli_value("plain", "x") == "plain"
