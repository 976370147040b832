"""Every notebook: one parameters cell with typed literals and help, an error budget, no analysis code."""

import ast
from pathlib import Path

import nbformat
import pytest

from workbench import reports

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.unit
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_declares_an_error_budget_and_starts_the_run_with_it(path):
    params = reports.notebook_parameters(path)
    assert params["max_error_rate"]["default"] == 0.0 and params["max_error_rate"]["help"]
    assert all(p["help"] for p in params.values()), "every parameter has a # help comment"
    code = "\n".join(
        c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
    )
    assert "wb.start_run(max_error_rate)" in code and "wb.run_health()" in code


@pytest.mark.unit
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_holds_no_definitions_or_analysis_lambdas(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not cell.outputs, "notebooks are committed without outputs"
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Lambda), (
                f"{path.name}: {type(node).__name__} in a cell; move it into workbench/"
            )


@pytest.mark.unit
def test_rag_notebook_introduction_does_not_assume_the_hr_corpus():
    nb = nbformat.read(Path(NOTEBOOKS[0]).with_name("04_rag_tuning.ipynb"), as_version=4)
    intro = nb.cells[0].source
    assert "`corpus`" in intro and "An HR assistant has to answer" not in intro
