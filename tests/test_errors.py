"""workbench.errors: one family for what a user can fix; the CLI hides tracebacks for it only."""

import pytest

from workbench import cli, errors
from workbench.data import DataError
from workbench.fuzz import FuzzError, MutatorError
from workbench.models import CatalogError
from workbench.prompts import PromptError
from workbench.reports import ParameterError


@pytest.mark.unit
@pytest.mark.parametrize(
    "kind",
    [
        DataError,
        CatalogError,
        PromptError,
        ParameterError,
        FuzzError,
        MutatorError,
        errors.NotebookNotFound,
        errors.MissingFile,
    ],
)
def test_every_user_error_is_a_workbench_error_and_still_a_value_error(kind):
    assert issubclass(kind, errors.WorkbenchError) and issubclass(kind, ValueError)


@pytest.mark.integration
def test_cli_prints_a_user_error_in_one_line_with_exit_2(capsys):
    assert cli.main(["run", "no_such_notebook"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: error: notebook not found: no_such_notebook")
    assert "Traceback" not in err


@pytest.mark.integration
def test_cli_lets_a_bug_keep_its_traceback(monkeypatch):
    def buggy(args):  # test double: a programming error inside a command
        raise ValueError("a bug, not the user's mistake")

    monkeypatch.setattr(cli, "cmd_reports", buggy)
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["reports"])
