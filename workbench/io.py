"""Reading user files: text that is UTF-8 (with or without a byte-order mark), or a clear error;
and typed validation of what the files hold (pydantic), with the same kind of message.

Every error names the file and the line (and column where it helps), so a user can open the
file at the right place instead of reading a traceback from deep inside a library.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from . import config
from .errors import DataError, WorkbenchError

__all__ = [
    "DataError",
    "Schema",
    "build_folder_once",
    "file_sha256",
    "pointer",
    "read_text",
    "sha256_file",
    "validate",
    "write_json_atomic",
    "write_jsonl",
]

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


# --------------------------------------------------------------------------- files we write


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON (secrets redacted) so that readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(config.redact(json.dumps(data, indent=2, default=str, ensure_ascii=False)))
    # mkstemp creates the file private (0600); a run record is read by the index and by others
    # who open the reports folder, like every other file of the run.
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rows as JSON lines (values JSON cannot hold are written as text)."""
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows),
        encoding="utf-8",
    )


def sha256_file(path: str | Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=16)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    # Weight files are hundreds of MB: remember their digest across processes, keyed on
    # path, size and modification time, so a cached notebook run does not re-hash them.
    index = config.model_store_dir() / "sha256-index.json"
    key = f"{path}|{size}|{mtime_ns}"
    try:
        known = json.loads(index.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        known[key] = sha256_file(path)
        try:
            index.parent.mkdir(parents=True, exist_ok=True)
            tmp = index.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(known, indent=0))
            os.replace(tmp, index)
        except OSError:
            pass  # a read-only store only costs speed
    return known[key]


def file_sha256(path: Path) -> str:
    """sha256 of a large file, memoised on path, size and modification time."""
    st = path.stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


def build_folder_once(target: Path, done: str, build: Callable[[Path], None]) -> Path:
    """`target`, built once by `build(tmp)` in a temporary sibling folder and renamed into place.

    A folder holding the file `done` is complete; a half-built one never appears under the
    target's name. When another process finishes the same build first, its (identical) result
    is kept.
    """
    if (target / done).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / done).exists():  # not a concurrent build of the same folder
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
