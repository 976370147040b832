"""Running a coroutine to completion from synchronous code, inside Jupyter or not.

A Jupyter kernel already runs an event loop, so `asyncio.run` cannot be called there.
Patching the loop to nest (nest_asyncio, as ragas' synchronous API does) steps the kernel's
own tasks inside the nested run; in JupyterLab, where the page sends messages while a cell
runs, that breaks the kernel ("cannot enter context ... is already entered") and the cell
never finishes. Here the coroutine gets a fresh loop in a worker thread instead.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` and return its result, also from inside an already-running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    # The caller's context (the current trace span among it) goes with the work.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(target,))
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
