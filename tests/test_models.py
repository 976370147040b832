"""workbench.models: the catalog, availability, embedded models and their fingerprints."""

import dataclasses

import pytest
from conftest import add_catalog_entry, fake_model_entry

from workbench import models


@pytest.mark.unit
def test_catalog_has_the_embedded_and_hosted_entries():
    catalog = models.load_catalog()
    for mid in ["smollm2-135m-instruct", "gemma-3-270m", "all-minilm-l6-v2", "gpt-4o-mini"]:
        assert mid in catalog
    spec = catalog["gpt-4o-mini"]
    assert spec.api_key_env == "OPENAI_API_KEY" and not spec.is_local


@pytest.mark.unit
def test_hosted_model_without_its_key_is_unavailable_not_an_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ok, why = models.availability(models.get_model("gpt-4o-mini"))
    assert not ok and "OPENAI_API_KEY" in why
    monkeypatch.setenv("OPENAI_API_KEY", "sk-something-long")
    assert models.availability(models.get_model("gpt-4o-mini"))[0]


@pytest.mark.unit
def test_base_url_from_environment(monkeypatch):
    monkeypatch.delenv("VLLM_BASE_URL", raising=False)
    ok, why = models.availability(models.get_model("vllm-llama-3.1-8b-instruct"))
    assert not ok and "VLLM_BASE_URL" in why


@pytest.mark.unit
def test_loopback_server_that_is_down_is_reported(datasets_copy):
    add_catalog_entry(datasets_copy, **fake_model_entry("down", "http://127.0.0.1:9/v1"))
    ok, why = models.availability(models.get_model("down"))
    assert not ok and "no server listening" in why


@pytest.mark.unit
def test_embedded_models_are_available():
    rows = {r["id"]: r for r in models.catalog_rows()}
    for mid in ["smollm2-135m-instruct", "gemma-3-270m", "all-minilm-l6-v2"]:
        assert rows[mid]["available"], rows[mid]["why"]


@pytest.mark.unit
def test_malformed_catalog_names_file_and_entry(datasets_copy):
    (datasets_copy / "models.yaml").write_text(
        "models:\n  - id: x\n    provider: magic\n    kind: chat\n    model: m\n"
    )
    with pytest.raises(
        models.CatalogError, match=r"models.yaml: model 'x': provider must be one of"
    ):
        models.load_catalog()
    (datasets_copy / "models.yaml").write_text(
        "models:\n  - id: y\n    provider: openai\n    kind: chat\n    model: m\n    colour: red\n"
    )
    with pytest.raises(models.CatalogError, match=r"model 'y': unknown field\(s\) colour"):
        models.load_catalog()


@pytest.mark.unit
def test_weight_checksum_mismatch_is_refused():
    spec = models.get_model("gemma-3-270m")
    bad = dataclasses.replace(spec, source={**spec.source, "sha256": "0" * 64})
    with pytest.raises(models.CatalogError, match="catalog expects 0000"):
        models.source_file(bad)


@pytest.mark.integration
def test_gguf_is_converted_once_to_a_safetensors_folder():
    folder = models.local_model_dir("smollm2-135m-instruct")
    assert (folder / "model.safetensors").exists() and (folder / "workbench.json").exists()
    assert folder.name.endswith(models.weights_fingerprint("smollm2-135m-instruct")[:12])
    assert models.local_model_dir("smollm2-135m-instruct") == folder
