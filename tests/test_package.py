"""The package's shape: a short, lazy face; no module over 400 lines (the layers contract is
checked by `lint-imports` in `make test`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import workbench

PACKAGE = Path(workbench.__file__).parent
HEAVY = ("pandas", "torch", "transformers", "matplotlib", "sentence_transformers", "openai")


@pytest.mark.unit
def test_every_public_name_of_the_face_resolves():
    for name in workbench.__all__:
        assert getattr(workbench, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        workbench.nope  # noqa: B018


@pytest.mark.unit
def test_no_module_is_over_400_lines():
    sizes = {
        str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
    }
    assert {k: v for k, v in sizes.items() if v > 400} == {}


@pytest.mark.integration
@pytest.mark.parametrize(
    "code",
    ["import workbench", "from workbench.cli import build_parser; build_parser()"],
)
def test_importing_the_package_or_the_cli_loads_no_heavy_library(code):
    probe = f"{code}; import sys; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{code!r} imported {out.stdout.strip()}"
