"""workbench.cache: persistence, WAL mode, key stability, errors never stored."""

import sqlite3

import pytest

from workbench.cache import ResponseCache, cache_key


@pytest.mark.unit
def test_roundtrip_persists_across_instances(tmp_path):
    path = tmp_path / "c.sqlite"
    ResponseCache(path).put("k", {"model": "m"}, {"text": "hello", "error": None})
    assert ResponseCache(path).get("k") == {"text": "hello", "error": None}
    assert ResponseCache(path).get("missing") is None


@pytest.mark.unit
def test_errors_are_refused(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    with pytest.raises(ValueError, match="never cached"):
        cache.put("k", {}, {"text": "", "error": "HTTP 500"})
    assert len(cache) == 0


@pytest.mark.unit
def test_wal_mode(tmp_path):
    ResponseCache(tmp_path / "c.sqlite")
    mode = sqlite3.connect(tmp_path / "c.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


@pytest.mark.unit
def test_key_is_order_independent_and_value_sensitive():
    assert cache_key({"a": 1, "b": [1, 2]}) == cache_key({"b": [1, 2], "a": 1})
    assert cache_key({"a": 1}) != cache_key({"a": 2})
    assert cache_key({"m": [{"role": "user", "content": "x"}]}) != cache_key(
        {"m": [{"role": "user", "content": "x "}]}
    )
