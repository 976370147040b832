"""Serve a local catalog model over an OpenAI-compatible API with `transformers serve`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import config
from .errors import MissingFile
from .models import CatalogError, get_model, local_model_dir


def command(
    model_id: str, port: int = 8000, device: str = "auto", log_level: str = "warning"
) -> tuple[list[str], Path, dict[str, str]]:
    """The `transformers serve` command line, working directory and environment for a model."""
    spec = get_model(model_id)
    if spec.provider != "transformers":
        raise CatalogError(
            f"model {spec.id!r} is not a local generative model; only those can be served"
        )
    folder = local_model_dir(spec)
    # `transformers serve` names a model by its path; serving from a folder holding a link named
    # after the catalog id lets clients ask for model=<catalog id>.
    served = config.model_store_dir() / "served"
    served.mkdir(parents=True, exist_ok=True)
    link = served / spec.id
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(folder, target_is_directory=True)
    hub_cache = config.model_store_dir() / "hf-hub-cache"
    hub_cache.mkdir(parents=True, exist_ok=True)
    exe = shutil.which("transformers", path=str(Path(sys.executable).parent)) or shutil.which(
        "transformers"
    )
    if not exe:
        raise MissingFile("the `transformers` command is missing; run `make install`")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(hub_cache)}
    cmd = [exe, "serve", spec.id, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--device", device, "--log-level", log_level]
    return cmd, served, env


def start(model_id: str, port: int, device: str = "auto") -> subprocess.Popen:
    """Start a server in the background (its own process group; see `stop`)."""
    cmd, cwd, env = command(model_id, port, device)
    return subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_ready(port: int, proc: subprocess.Popen | None = None, timeout: float = 180) -> None:
    """Block until the server on 127.0.0.1:`port` answers its health check."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"model server exited with code {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"no model server answered on port {port} within {timeout}s")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server started by `start`, and anything it spawned."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
