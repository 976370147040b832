"""Shared fixtures: every test gets its own cache, reports folder and model catalog copy."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Fresh response cache, reports and adapters folders; no run directory inherited from outside."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WORKBENCH_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("WORKBENCH_ADAPTERS_DIR", str(tmp_path / "adapters"))
    monkeypatch.delenv("WORKBENCH_RUN_DIR", raising=False)
    monkeypatch.delenv("WORKBENCH_HEADLESS", raising=False)
    from workbench import tracking

    monkeypatch.setattr(tracking, "_current", None)  # each test starts with an empty run record
    return tmp_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def datasets_copy(tmp_path, monkeypatch):
    """A private copy of datasets/ (WORKBENCH_DATASETS) that a test may extend or break."""
    target = tmp_path / "datasets"
    shutil.copytree(ROOT / "datasets", target)
    monkeypatch.setenv("WORKBENCH_DATASETS", str(target))
    return target


def add_catalog_entry(datasets_dir: Path, **entry) -> None:
    path = datasets_dir / "models.yaml"
    data = yaml.safe_load(path.read_text())
    data["models"].append(entry)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def fake_model_entry(model_id: str, base_url: str, **extra) -> dict:
    """A catalog entry for the FakeOpenAIServer test double."""
    return {
        "id": model_id,
        "provider": "openai",
        "kind": "chat",
        "model": "fake-model",
        "base_url": base_url,
        "licence": "test double",
        "price_per_1m_input": 1.0,
        "price_per_1m_output": 2.0,
        **extra,
    }


def write_notebook(path: Path, parameters: str, *cells: str) -> Path:
    """A small notebook with a tagged parameters cell followed by `cells`."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Test notebook"), params]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


TIERS = ("unit", "integration", "notebook", "browser")


def pytest_collection_modifyitems(config, items):
    """Every test carries exactly one tier marker; nbval's notebook cells are the notebook tier.

    `unit`: in-process, no server, subprocess or kernel (`make test-fast`); `integration`: a
    real server on loopback, a subprocess, a kernel or an embedded model; `notebook`: a whole
    notebook run; `browser`: headless Chromium.
    """
    notebooks = ROOT / "notebooks"
    for item in items:
        if notebooks in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.notebook)
        tiers = {m.name for m in item.iter_markers() if m.name in TIERS}
        if len(tiers) != 1:
            raise pytest.UsageError(
                f"{item.nodeid}: needs exactly one tier marker of {', '.join(TIERS)}, "
                f"has {sorted(tiers) or 'none'}"
            )


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for every test that needs it (starting one costs seconds)."""
    from workbench import executors

    ray = executors.session(num_cpus=2)
    yield ray
    executors.shutdown()
