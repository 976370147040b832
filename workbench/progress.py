"""Progress of headless runs, shown in the terminal that started them.

A notebook executed by `workbench run` has its own kernel process, whose progress bars
land in the notebook, not in the terminal. So long steps inside the kernel (model calls)
write a small progress file into the run folder, and the runner shows one status line per
notebook: the current section, the cell counter, the elapsed time and the step's progress.
On a terminal the line is rewritten in place; in a log (CI) a line is printed when the
section changes and at most every `LOG_EVERY_S` seconds in between.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from .tracking import write_json_atomic

PROGRESS_FILE = ".progress.json"
WRITE_EVERY_S = 0.5
LOG_EVERY_S = 30.0


class StepProgress:
    """Progress of one long step (e.g. a model's calls): a tqdm bar and, headless, the file."""

    def __init__(self, desc: str, total: int, show_bar: bool):
        from tqdm.auto import tqdm

        self.desc, self.total, self.done = desc, total, 0
        self._bar = tqdm(total=total, desc=desc, disable=not show_bar, leave=False)
        folder = os.environ.get("WORKBENCH_RUN_DIR")
        self._file = Path(folder) / PROGRESS_FILE if folder else None
        self._written = 0.0
        self._write(force=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        self._bar.update(n)
        self._write(force=self.done >= self.total)

    def close(self) -> None:
        self._bar.close()
        self._write(force=True)

    def _write(self, force: bool) -> None:
        now = time.monotonic()
        if self._file is None or (not force and now - self._written < WRITE_EVERY_S):
            return
        self._written = now
        with contextlib.suppress(OSError):  # progress is a courtesy; it never fails a run
            write_json_atomic(
                self._file, {"desc": self.desc, "done": self.done, "total": self.total}
            )


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


class NotebookProgress:
    """The runner's status line for one notebook; its methods are nbclient cell hooks."""

    def __init__(self, name: str, cells: list[Any], run_dir: Path, stream: TextIO | None = None):
        self.name, self.run_dir = name, run_dir
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = sum(1 for c in cells if c.cell_type == "code")
        self.sections = _sections(cells)
        self.section, self.cell = "", 0
        self.started = time.monotonic()
        self._logged_at, self._logged_section = 0.0, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)
        self._width = 0

    def __enter__(self) -> NotebookProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()

    def on_cell_start(self, cell: Any, cell_index: int, **_: Any) -> None:
        if cell.cell_type != "code":
            return
        self.cell += 1
        self.section = self.sections.get(cell_index, self.section)
        (self.run_dir / PROGRESS_FILE).unlink(missing_ok=True)  # a new step starts
        self._show()

    def _step(self) -> str:
        try:
            step = json.loads((self.run_dir / PROGRESS_FILE).read_text())
        except (OSError, ValueError):
            return ""
        return f" · {step['desc']} {step['done']}/{step['total']}"

    def line(self) -> str:
        where = f" · {self.section}" if self.section else ""
        return (
            f"{self.name}: cell {self.cell}/{self.total}{where} · "
            f"{_clock(time.monotonic() - self.started)}{self._step()}"
        )

    def _show(self) -> None:
        text = self.line()
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
        else:
            now = time.monotonic()
            if self.section == self._logged_section and now - self._logged_at < LOG_EVERY_S:
                return
            self._logged_at, self._logged_section = now, self.section
            self.stream.write(text + "\n")
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self._show()


def _sections(cells: list[Any]) -> dict[int, str]:
    """Index of each code cell -> the markdown heading it stands under."""
    found, heading = {}, ""
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
                    break
        elif cell.cell_type == "code":
            found[i] = heading
    return found
