"""The stakeholder's page of one run: code hidden, self-contained, failures in one line."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from . import config, tracking
from .pages import render

TEMPLATES = Path(__file__).parent / "templates"
_REMOTE = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", re.I)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def one_line(error: dict[str, Any] | None) -> str:
    """A failed run's cause in one line, for the index, the report header and the terminal."""
    if not error:
        return ""
    message = str(error.get("message") or "").strip().splitlines()
    text = message[0] if message else ""
    kind = str(error.get("type") or "")
    line = f"{kind}: {text}" if kind and kind != "ErrorBudgetExceeded" else text
    return line if len(line) <= 300 else line[:297] + "..."


def _banner(record: dict[str, Any]) -> str:
    budget = record.get("error_budget") or tracking.error_budget(record)
    git = record.get("git") or {}
    commit = (git.get("commit") or "no git")[:10] + (
        " (uncommitted changes)" if git.get("dirty") else ""
    )
    return render(
        "banner.html.j2",
        cause=one_line(record.get("error")) if record.get("error") else "",
        run_id=record["run_id"],
        status=record["status"],
        calls=budget["calls"],
        errors=budget["errors"],
        max_error_rate=budget["max_error_rate"],
        started_at=record["started_at"],
        duration_s=record["duration_s"],
        commit=commit,
        warnings=record.get("warnings") or [],
        parameters=[(k, json.dumps(v)) for k, v in record["parameters"].items()],
    )


def _folded_error(out: dict[str, Any]) -> dict[str, Any]:
    """An error output as a one-line summary, its traceback folded away for developers."""
    import nbformat

    summary = html.escape(one_line({"type": out.get("ename"), "message": out.get("evalue")}))
    trace = html.escape(_ANSI.sub("", "\n".join(out.get("traceback") or [])))
    body = (
        f"<details class='wb-error'><summary><b>Error</b> {summary}</summary>"
        f"<pre>{trace}</pre></details>"
    )
    return nbformat.v4.new_output("display_data", data={"text/html": body})


def _title(nb: Any, record: dict[str, Any]) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return f"{line[2:].strip()} · {record['run_id']} ({record['status']})"
    return f"{Path(record.get('notebook', 'run')).stem} · {record['run_id']} ({record['status']})"


def export_html(notebook_path: Path, out_path: Path, record: dict[str, Any]) -> None:
    """Write a code-hidden, self-contained HTML report of an executed notebook."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    nb.metadata.pop("widgets", None)
    # papermill's "An Exception was encountered" banners: the report header says it once.
    nb.cells = [
        c
        for c in nb.cells
        if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])
    ]
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                continue  # warnings and progress bars are for the log, not the stakeholder
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
                continue  # a live widget (e.g. a progress bar) has no meaning in a static page
            kept.append(_folded_error(out) if out.get("output_type") == "error" else out)
        cell.outputs = kept
    banner = nbformat.v4.new_code_cell(
        source="",
        outputs=[nbformat.v4.new_output("display_data", data={"text/html": _banner(record)})],
    )
    nb.cells.insert(0, banner)
    exporter = HTMLExporter(
        template_name="workbench_report",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": _title(nb, record)}})
    body = config.redact(body)
    check_self_contained(body, out_path)
    out_path.write_text(body, encoding="utf-8")


def check_self_contained(text: str, where: Path | str = "report") -> None:
    """Refuse HTML that would load anything from the network."""
    match = _REMOTE.search(text)
    if match:
        raise ValueError(f"{where}: would load a remote resource: {match.group(0)[:120]}")
