"""Project paths and settings from the environment (and an optional `.env` file).

Settings hold the *names* of secret-bearing variables, never their values, so nothing
here can leak a key into a run record.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dotenv import load_dotenv

PACKAGE_DIR = Path(__file__).resolve().parent


def _find_project_root() -> Path:
    env = os.environ.get("WORKBENCH_PROJECT_ROOT")
    if env:
        return Path(env).resolve()
    for candidate in [Path.cwd(), *Path.cwd().parents, PACKAGE_DIR.parent]:
        if (candidate / "datasets" / "models.yaml").exists():
            return candidate
    return PACKAGE_DIR.parent


PROJECT_ROOT = _find_project_root()
# Secrets for hosted endpoints may live in `.env` (git-ignored); values stay in the process.
load_dotenv(PROJECT_ROOT / ".env", override=False)

# Offline by design: no Hugging Face library may reach a hub.
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "RAGAS_DO_NOT_TRACK": "true",  # ragas checks for the string "true"
}.items():
    os.environ.setdefault(_name, _value)

SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.I)


def project_relative(path: str | Path) -> str:
    """`path` relative to the project root when it lies inside it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT.resolve()))
    except ValueError:
        return str(path)


def datasets_dir() -> Path:
    """Folder of project-authored data (`datasets/`)."""
    return Path(os.environ.get("WORKBENCH_DATASETS", PROJECT_ROOT / "datasets"))


def reports_dir() -> Path:
    """Folder that receives versioned run folders and `index.html`."""
    return Path(os.environ.get("WORKBENCH_REPORTS", PROJECT_ROOT / "reports"))


def notebooks_dir() -> Path:
    return PROJECT_ROOT / "notebooks"


def cache_dir() -> Path:
    """Project cache: the response cache lives here."""
    return Path(os.environ.get("WORKBENCH_CACHE_DIR", PROJECT_ROOT / ".cache" / "workbench"))


def adapters_dir() -> Path:
    """Where trained adapters are published (content-addressed folders, git-ignored)."""
    return Path(os.environ.get("WORKBENCH_ADAPTERS_DIR", PROJECT_ROOT / "adapters"))


def model_store_dir() -> Path:
    """Where converted local models (safetensors folders) are kept across clones."""
    default = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "workbench" / "models"
    )
    return Path(os.environ.get("WORKBENCH_MODEL_DIR", default))


def secret_values(extra_names: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Values of environment variables that look like secrets (to scrub from artefacts)."""
    values = set()
    for name, value in os.environ.items():
        if (SECRET_NAME.search(name) or name in extra_names) and value and len(value) >= 6:
            values.add(value)
    return sorted(values, key=len, reverse=True)


def redact(text: str, extra_names: list[str] | tuple[str, ...] = ()) -> str:
    """Replace every secret-looking environment value in `text` with `***`."""
    for value in secret_values(extra_names):
        text = text.replace(value, "***")
    return text
