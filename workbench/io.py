"""Reading user files: text that is UTF-8 (with or without a byte-order mark), or a clear error;
and typed validation of what the files hold (pydantic), with the same kind of message.

Every error names the file and the line (and column where it helps), so a user can open the
file at the right place instead of reading a traceback from deep inside a library.
"""

from __future__ import annotations

import codecs
import functools
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from .errors import DataError, WorkbenchError

__all__ = ["DataError", "Schema", "pointer", "read_text", "validate"]

M = TypeVar("M")


class Schema(BaseModel):
    """Base of the typed file formats: unknown fields are errors, values are not coerced
    silently (a number must be a number), and a parsed row is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def describe(exc: ValidationError, missing: str = "missing field(s)") -> str:
    """pydantic's errors in the project's words: missing and unknown fields listed together,
    otherwise `field: problem` for the first error (our own validators' text kept as written)."""
    errors = exc.errors(include_url=False)
    absent = [".".join(map(str, e["loc"])) for e in errors if e["type"] == "missing"]
    if absent:
        return f"{missing} {', '.join(absent)}"
    unknown = ("extra_forbidden", "unexpected_keyword_argument")
    extra = sorted(".".join(map(str, e["loc"])) for e in errors if e["type"] in unknown)
    if extra:
        return f"unknown field(s) {', '.join(extra)}"
    first = errors[0]
    field = ".".join(map(str, first["loc"]))
    if first["type"] == "value_error":
        text = str(first["ctx"]["error"])
    else:
        text = f"{first['msg'][0].lower()}{first['msg'][1:]}, got {first['input']!r}"
    return text if not field or text.startswith(field) else f"{field}: {text}"


@functools.cache
def _adapter(schema: type) -> TypeAdapter:
    return TypeAdapter(schema)


def validate(
    schema: type[M],
    data: Any,
    where: str,
    error: type[WorkbenchError] = DataError,
    missing: str = "missing field(s)",
) -> M:
    """`data` parsed as `schema` (a pydantic model or a dataclass pydantic can check);
    otherwise `error` with "`where`: field: problem"."""
    try:
        return _adapter(schema).validate_python(data)
    except ValidationError as exc:
        raise error(f"{where}: {describe(exc, missing)}") from None


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
