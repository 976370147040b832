"""HTML from the package's Jinja2 templates (`workbench/templates/pages/`), autoescaped.

Every value a template receives is escaped unless it is `markupsafe.Markup` (HTML the package
built itself), so nothing a model, a user or an attacker wrote can add markup to a page.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

FOLDER = Path(__file__).parent / "templates" / "pages"


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(FOLDER), autoescape=True)


def render(template: str, **context: Any) -> str:
    """`template` (a file under templates/pages/) rendered with `context`, trimmed."""
    return _environment().get_template(template).render(**context).strip()
