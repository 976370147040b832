"""workbench.adapters and `<base>+<adapter>` catalog ids: content-addressed names, the catalog
and parameters that accept them, the cache key that tells them apart, and the errors."""

from __future__ import annotations

import pytest
from conftest import add_catalog_entry, fake_model_entry

from workbench import adapters, config, params
from workbench.errors import CatalogError
from workbench.llm._transformers import TransformersProvider
from workbench.models import catalog_rows, get_model, load_catalog, model_ids, weights_fingerprint

BASE = "smollm2-135m-instruct"


def _publish(tmp_path, weights: bytes, base: str = BASE, task: str = "hr_intents"):
    """A stand-in adapter folder (bytes, not a trained adapter): registration reads files only."""
    staged = tmp_path / f"staged-{weights.hex()[:8]}"
    staged.mkdir()
    (staged / adapters.WEIGHTS).write_bytes(weights)
    (staged / adapters.ADAPTER_CONFIG).write_text("{}")
    meta = {"base_model": base, "base_weights_sha256": "0" * 64, "task": task}
    return adapters.publish(staged, task, meta, lambda record: "# card\n")


@pytest.mark.unit
def test_names_are_content_addressed_and_one_name_means_one_set_of_bytes(tmp_path):
    first = _publish(tmp_path, b"weights-a")
    again = _publish(tmp_path, b"weights-a")
    other = _publish(tmp_path, b"weights-b")
    assert first.name == again.name == f"hr_intents-lora-{first.sha256[:12]}"
    assert other.name != first.name
    assert [a.name for a in adapters.list_adapters()] == sorted([first.name, other.name])
    assert adapters.adapter_name("HR Intents/v2", "ab" * 32) == "hr-intents-v2-lora-abababababab"
    assert adapters.split_id(f"{BASE}+{first.name}") == (BASE, first.name)
    assert adapters.split_id(BASE) == (BASE, None)


@pytest.mark.unit
def test_a_published_adapter_is_a_catalog_model_that_parameters_accept(tmp_path):
    published = _publish(tmp_path, b"weights-a")
    model_id = f"{BASE}+{published.name}"
    spec = get_model(model_id)
    assert (spec.id, spec.adapter, spec.adapter_sha256) == (
        model_id,
        published.name,
        published.sha256,
    )
    assert spec.provider == "transformers" and spec.licence == get_model(BASE).licence
    assert weights_fingerprint(spec) == weights_fingerprint(BASE)  # the base's weights
    assert model_id in model_ids() and model_id not in load_catalog()
    row = next(r for r in catalog_rows() if r["id"] == model_id)
    assert row["available"]
    effective = params.validate_parameters(
        config.notebooks_dir() / "01_model_discovery.ipynb", {"models": [BASE, model_id]}
    )
    assert effective["models"] == [BASE, model_id]


@pytest.mark.unit
def test_the_cache_key_changes_with_the_adapter(tmp_path):
    a, b = _publish(tmp_path, b"weights-a"), _publish(tmp_path, b"weights-b")
    base = TransformersProvider(get_model(BASE)).identity()
    with_a = TransformersProvider(get_model(f"{BASE}+{a.name}")).identity()
    with_b = TransformersProvider(get_model(f"{BASE}+{b.name}")).identity()
    assert "adapter_sha256" not in base
    assert with_a["adapter_sha256"] == a.sha256 and with_b["adapter_sha256"] == b.sha256
    assert len({repr(sorted(x.items())) for x in (base, with_a, with_b)}) == 3


@pytest.mark.unit
def test_adapter_ids_that_cannot_work_are_errors_naming_what_is_wrong(tmp_path, datasets_copy):
    published = _publish(tmp_path, b"weights-a")
    with pytest.raises(
        CatalogError, match=rf"no adapter 'nope-lora-000000000000'.*{published.name}"
    ):
        get_model(f"{BASE}+nope-lora-000000000000")
    with pytest.raises(CatalogError, match=rf"trained on '{BASE}', not 'gemma-3-270m'"):
        get_model(f"gemma-3-270m+{published.name}")
    add_catalog_entry(datasets_copy, **fake_model_entry("remote", "http://127.0.0.1:9/v1"))
    with pytest.raises(CatalogError, match="'remote' \\(openai\\) cannot take an adapter"):
        get_model(f"remote+{published.name}")
    with pytest.raises(CatalogError, match="unknown model id 'missing'"):
        get_model(f"missing+{published.name}")


@pytest.mark.unit
def test_the_catalog_file_cannot_declare_an_adapter(datasets_copy):
    add_catalog_entry(datasets_copy, **fake_model_entry("x", "http://127.0.0.1:9/v1", adapter="a"))
    with pytest.raises(CatalogError, match="model 'x': adapters are not catalog entries"):
        load_catalog()
