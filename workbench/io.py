"""Reading user files: text that is UTF-8 (with or without a byte-order mark), or a clear error.

Every error names the file and the line (and column where it helps), so a user can open the
file at the right place instead of reading a traceback from deep inside a library.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from .errors import DataError

__all__ = ["DataError", "pointer", "read_text"]


def read_text(path: str | Path, what: str = "file") -> str:
    """The file's text, decoded as UTF-8; a leading byte-order mark is dropped.

    Invalid UTF-8 raises DataError naming the file, line and column of the first bad byte.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what} not found: {p}")
    raw = p.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw[: exc.start].count(b"\n") + 1
        column = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise DataError(
            f"{p}:{line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {column}); "
            "save the file with UTF-8 encoding"
        ) from None


def pointer(line: str, column: int, width: int = 60) -> str:
    """An excerpt of `line` around 1-based `column`, with a caret under it."""
    start = max(0, column - 1 - width // 2)
    excerpt = line[start : start + width].rstrip("\n")
    return f"\n    {excerpt}\n    {' ' * (column - 1 - start)}^"
