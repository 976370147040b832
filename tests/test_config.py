"""workbench.config: secrets are recognised by variable name and scrubbed from text."""

import pytest

from workbench import config


@pytest.mark.unit
def test_redact_scrubs_secret_looking_variables(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_API_KEY", "sk-test-abcdef123456")
    monkeypatch.setenv("HARMLESS_SETTING", "visible-value")
    text = "key sk-test-abcdef123456 and visible-value"
    assert config.redact(text) == "key *** and visible-value"


@pytest.mark.unit
def test_redact_ignores_short_values(monkeypatch):
    monkeypatch.setenv("SOME_TOKEN", "1")
    assert config.redact("1 2 3") == "1 2 3"


@pytest.mark.unit
def test_offline_variables_are_set():
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
