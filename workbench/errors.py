"""What a user can fix, as one family of exceptions; anything else is a bug.

The command line catches `WorkbenchError` only and prints its one-line message (which names
the file, line, parameter or model at fault) with exit code 2; any other exception is a bug
and keeps its traceback. `WorkbenchError` is a `ValueError`, so code that caught the
individual errors as `ValueError` keeps working.
"""

from __future__ import annotations


class WorkbenchError(ValueError):
    """A problem the user can fix; the message says where."""


class NotebookNotFound(WorkbenchError, FileNotFoundError):
    """A notebook name or path that does not exist."""


class MissingFile(WorkbenchError, FileNotFoundError):
    """A run folder, saved result or command the user must provide first."""


class DataError(WorkbenchError):
    """A dataset file is missing or malformed; the message names the file and line."""


class CatalogError(WorkbenchError):
    """The model catalog, or a model id asked of it, is wrong."""


class PromptError(WorkbenchError):
    """A template that cannot be loaded or rendered; the message names what is at fault."""


class ParameterError(WorkbenchError):
    """A notebook parameter that does not exist or has the wrong type."""


class UnknownName(ParameterError, KeyError):
    """A name (metric, mutator, chunker, provider, ...) that nothing registered; lists the known."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class FuzzError(WorkbenchError):
    """A bad catalogue row or parameter; the message names the file, line or parameter."""


class MutatorError(FuzzError):
    """An unknown mutator, or a chain that needs a paraphrase model and has none."""


class RunError(DataError):
    """A run folder that is not there, not finished, or lacks the artifact asked for."""


class ProviderError(WorkbenchError):
    """A failed model call; `retryable` says whether trying again can help.

    Inside `generate_many` it becomes `Response.error` (a value, finished work is kept);
    it is raised to the caller only where no response can carry it.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
