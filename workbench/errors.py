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
