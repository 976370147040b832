"""JupyterLab in a real browser: JupyterLab from .venv on 127.0.0.1 with a token, driven by
Playwright through the system Chromium. Every shipped notebook runs all its cells with small
parameters and shows no error, no widget that failed to render and no stray warning. The
playground answers in the page; the review widget takes three ratings from the keyboard,
writes three lines, and resumes at item four after a kernel restart. Screenshots of each step
go to the test's folder for a person to look at."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, free_port, write_notebook

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
JUPYTER = Path(sys.executable).parent / "jupyter"

ITEMS = [
    {"id": f"q{i}", "question": f"Question {i}?", "answer": f"Answer {i}.", "reference": f"Ref {i}"}
    for i in range(6)
]
CELLS = (
    "import workbench as wb\nwb.widgets.playground(['smollm2-135m-instruct'])",
    f"items = {ITEMS!r}\nwb.widgets.review(items, 'labels.jsonl', kind='rubric', reviewer='tester')",
)


# Each notebook's smallest meaningful run: every section still executes, on fewer cases.
SMALL = {
    "01_model_discovery": {"models": ["smollm2-135m-instruct"], "tasks": ["sentiment", "qa"], "n_cases": 2},
    "02_prompt_iteration": {"variants": ["qa-zero-shot", "qa-three-shot"], "n_cases": 3},
    "03_synthetic_data": {"n_target": 4, "strategies": ["from_seeds", "noise"]},
    "04_rag_tuning": {
        "chunkers": ["fixed"], "chunk_sizes": [64], "overlaps": [0], "retrievers": ["bm25", "dense"],
        "top_k": [3], "n_questions": 2, "n_judged": 0,
    },
    "05_adversarial_fuzzing": {
        "categories": ["direct_injection"], "mutators": ["base64"], "n_per_category": 1,
        "guards": ["none", "both"],
    },
    "06_fine_tuning": {
        "max_steps": 2, "eval_every": 1, "n_train": 16, "n_validation": 8, "n_held_out": 8,
        "forgetting_cases": 4, "domain_max_steps": 1, "domain_held_out_docs": 2,
    },
    "07_production_monitoring": {"replay_per_window": 1, "window": "2d"},
    "08_chains_and_agents": {"n_tasks": 2, "trajectories_shown": 1},
}  # fmt: skip # one notebook per entry reads better than ruff's one value per line
# What a widget looks like when the page cannot render it: JupyterLab's message, or the
# model's text repr in place of the view.
BROKEN_WIDGET = ("Error displaying widget", "Loading widget...", "VBox(children=", "HBox(children=")


def _need_browser():
    if CHROMIUM is None:
        if os.environ.get("WORKBENCH_REQUIRE_BROWSER"):
            pytest.fail("WORKBENCH_REQUIRE_BROWSER is set but no Chromium is installed")
        pytest.skip("no Chromium on this machine")


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a free loopback port over `tmp_path/lab`; yields (base URL, token, folder,
    the monotonic time it was launched)."""
    _need_browser()
    folder = tmp_path / "lab"
    folder.mkdir()
    port, token = free_port(), secrets.token_hex(16)
    # Every cell attached to the page (not only those in view), so every output is checked;
    # and no question about fetching news.
    settings = tmp_path / "lab-settings"
    for name, value in (
        ("notebook-extension/tracker", {"windowingMode": "none"}),
        ("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False}),
    ):
        (settings / "@jupyterlab" / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / "@jupyterlab" / f"{name}.jupyterlab-settings").write_text(json.dumps(value))
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings)}
    cmd = [
        str(JUPYTER), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
        "--LabApp.expose_app_in_browser=True", "--ServerApp.disable_check_xsrf=False",
        "--allow-root",
    ]  # fmt: skip # one flag per item
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "lab.log").read_text()
                assert time.monotonic() - started < 120, "JupyterLab did not start"
                time.sleep(0.3)
        yield base, token, folder, started
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()


def _open(page, base: str, token: str, name: str) -> None:
    # reset: a fresh workspace, so the notebooks opened before are not restored beside it
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session"
        " && w.sessionContext.session.kernel && w.sessionContext.session.kernel.status === 'idle'; }",
        timeout=120_000,
    )


def _run_all(page, timeout_s: float = 300) -> None:
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " const busy = w.sessionContext.session.kernel.status !== 'idle';"
        " const pending = [...document.querySelectorAll('.jp-InputArea-prompt')]"
        "   .some(p => p.textContent.includes('*'));"
        " return !busy && !pending; }",
        timeout=timeout_s * 1000,
    )


def _save_and_close(page) -> None:
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=60_000
    )
    page.evaluate(
        "async () => { const w = window.jupyterapp.shell.currentWidget;"
        " await w.sessionContext.shutdown(); w.dispose(); }"
    )


def _problems(path: Path, page_text: str) -> list[str]:
    """Errors, stderr output and unrendered widgets of a notebook saved after running in Lab."""
    import nbformat

    found = [f"widget not rendered ({b!r} in the page)" for b in BROKEN_WIDGET if b in page_text]
    for n, cell in enumerate(nbformat.read(str(path), 4).cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append(f"cell {n}: {out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr":
                found.append(f"cell {n} wrote to stderr: {out.text.strip()[:300]}")
        if cell.cell_type == "code" and cell.execution_count is None:
            found.append(f"cell {n} did not run")
    return found


@pytest.mark.browser
def test_every_notebook_runs_in_jupyterlab(lab, tmp_path):
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook
    from playwright.sync_api import sync_playwright

    from workbench.params import validate_parameters

    base, token, folder, _ = lab
    shots = tmp_path / "screenshots"
    shots.mkdir()
    problems, took = {}, {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 1100})
        for name, params in SMALL.items():
            source = ROOT / "notebooks" / f"{name}.ipynb"
            validate_parameters(source, params)  # a renamed parameter fails here, not silently
            nb = load_notebook_node(str(source))
            nb = parameterize_notebook(nb, params, kernel_name="python3", language="python")
            nbformat.write(nb, str(folder / f"{name}.ipynb"))
            started = time.monotonic()
            _open(page, base, token, f"{name}.ipynb")
            _run_all(page, timeout_s=240)
            took[name] = time.monotonic() - started
            page.locator(".jp-Cell").last.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"{name}.png"))
            text = page.evaluate("window.jupyterapp.shell.currentWidget.content.node.innerText")
            _save_and_close(page)
            problems[name] = _problems(folder / f"{name}.ipynb", text)
        browser.close()
    print("seconds per notebook in the browser:", {k: round(v, 1) for k, v in took.items()})
    assert not any(problems.values()), json.dumps(problems, indent=1)


@pytest.mark.browser
def test_playground_and_review_work_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    base, token, folder, launched = lab
    write_notebook(folder / "widgets.ipynb", "x: int = 1  # unused", *CELLS)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 1100})
        _open(page, base, token, "widgets.ipynb")
        _run_all(page)
        first_cell_s = time.monotonic() - launched
        page.screenshot(path=str(shots / "1-widgets.png"), full_page=True)
        assert "Error displaying widget" not in page.content()

        prompt = page.get_by_placeholder("your prompt")
        prompt.fill("What is the capital of France? One word.")
        page.get_by_role("button", name="Generate").click()
        page.wait_for_selector("text=model(s) answered", timeout=120_000)
        page.screenshot(path=str(shots / "2-playground-answer.png"), full_page=True)
        answers = page.locator("table").filter(has_text="completion_tokens").first.inner_text()
        assert "smollm2-135m-instruct" in answers and "Paris" in answers

        key = page.get_by_placeholder("type 1-5, then Enter")
        for n, score in enumerate(("4", "2", "5")):
            key.fill(score)
            key.press("Enter")
            page.wait_for_selector(f"text=saved q{n}: {score}", timeout=30_000)
        page.wait_for_selector("text=Item 4 of 6", timeout=30_000)
        page.screenshot(path=str(shots / "3-review-three-rated.png"), full_page=True)
        lines = (folder / "labels.jsonl").read_text().splitlines()
        assert [json.loads(x)["label"] for x in lines] == [4, 2, 5]

        page.evaluate("window.jupyterapp.shell.currentWidget.sessionContext.restartKernel()")
        page.wait_for_timeout(1000)
        _run_all(page)
        page.wait_for_selector("text=Item 4 of 6", timeout=60_000)
        page.screenshot(path=str(shots / "4-review-resumed.png"), full_page=True)
        browser.close()
    # Reported in the note of the issue that asked for it; not asserted (a timing, not a test).
    print(f"JupyterLab launch to every cell executed in the browser: {first_cell_s:.1f} s")
