"""JupyterLab in a real browser: JupyterLab from .venv on 127.0.0.1 with a token, driven by
Playwright through the system Chromium. The playground answers in the page; the review widget
takes three ratings from the keyboard, writes three lines, and resumes at item four after a
kernel restart. Screenshots of each step go to the test's folder for a person to look at."""

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
from conftest import free_port, write_notebook

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
    cmd = [
        str(JUPYTER), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
        "--LabApp.expose_app_in_browser=True", "--ServerApp.disable_check_xsrf=False",
        "--allow-root",
    ]  # fmt: skip # one flag per item
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
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
    page.goto(f"{base}/lab/tree/{name}?token={token}")
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
