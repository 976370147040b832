"""workbench.progress: the runner's status line reads the kernel's step progress."""

import io
import json

import nbformat
import pytest

from workbench import progress


@pytest.mark.unit
def test_status_line_names_section_cell_and_the_current_step(tmp_path, monkeypatch):
    cells = [
        nbformat.v4.new_markdown_cell("## Generate\ntext"),
        nbformat.v4.new_code_cell("x"),
        nbformat.v4.new_markdown_cell("## Score"),
        nbformat.v4.new_code_cell("y"),
    ]
    stream = io.StringIO()
    bar = progress.NotebookProgress("01_demo", cells, tmp_path, stream=stream)
    bar.on_cell_start(cell=cells[1], cell_index=1)
    monkeypatch.setenv("WORKBENCH_RUN_DIR", str(tmp_path))
    step = progress.StepProgress("smollm2", 10, show_bar=False)
    step.update(4)
    step.close()
    assert json.loads((tmp_path / progress.PROGRESS_FILE).read_text())["done"] == 4
    assert bar.line().startswith("01_demo: cell 1/2 · Generate · 0:00 · smollm2 4/10")
    bar.on_cell_start(cell=cells[3], cell_index=3)  # a new cell: the old step is gone
    assert bar.line() == "01_demo: cell 2/2 · Score · 0:00"
    assert stream.getvalue().splitlines()[-1].startswith("01_demo: cell 2/2 · Score")
