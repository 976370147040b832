"""The playground: prompts from free text or a template, models side by side (a failing one
does not stop the others), the cache on a second identical request, saving a case."""

from __future__ import annotations

import json

import pytest
from conftest import add_catalog_entry, fake_model_entry
from fake_openai import FakeOpenAIServer

from workbench import data, playground
from workbench.errors import ParameterError


@pytest.mark.unit
def test_messages_from_free_text_or_a_template_with_its_variables():
    assert playground.messages(playground.FREE_TEXT, {}, "Hello?") == [
        {"role": "user", "content": "Hello?"}
    ]
    msgs = playground.messages("qa-zero-shot", {}, "Context: A. Question: B?")
    assert msgs[-1]["content"].endswith("Context: A. Question: B?")
    with pytest.raises(ParameterError, match="write a prompt"):
        playground.messages(playground.FREE_TEXT, {}, " ")
    with pytest.raises(ParameterError, match="fill"):
        playground.messages("hr-assistant", {"prompt": "hi"}, "")


@pytest.mark.integration
def test_a_failing_model_shows_its_error_and_the_others_answer(datasets_copy):
    with FakeOpenAIServer(default="500") as broken, FakeOpenAIServer() as ok:
        add_catalog_entry(datasets_copy, **fake_model_entry("broken", broken.base_url))
        add_catalog_entry(datasets_copy, **fake_model_entry("works", ok.base_url))
        msgs = playground.messages(playground.FREE_TEXT, {}, "ping")
        table = playground.generate(["broken", "works", "nope"], msgs).set_index("model")
        assert "HTTP 500" in table.loc["broken", "error"]
        assert table.loc["works", "answer"] == "echo: ping" and table["error"].isna()["works"]
        assert "unknown model" in table.loc["nope", "error"]
        again = playground.generate(["works"], msgs).set_index("model")
        assert bool(again.loc["works", "cached"]) and again.loc["works", "latency_s"] is None


@pytest.mark.integration
def test_the_widget_generates_with_the_embedded_model_and_saves_a_case(datasets_copy):
    widget = playground._Playground(["smollm2-135m-instruct"])
    widget.text.value = "What is the capital of France? Answer in one word."
    widget.max_tokens.value = 8
    widget.on_generate()
    assert "1 model(s) answered" in widget.status.value and "smollm2" in widget.answers.value
    widget.task.value = "qa"
    widget.reference.value = "Paris"
    widget.on_save()
    assert "saved case <code>qa-pg-001</code>" in widget.status.value
    task = data.load_task("qa", track=False)
    case = [c for c in task.cases if c["id"] == "qa-pg-001"][0]
    assert case["reference"] == "Paris" and case["source"]["from"] == "playground"
    widget.template.value = "qa-zero-shot"
    assert "version" in widget.version.value and widget.fields.children
    widget.reference.value = ""
    widget.on_save()
    assert "needs a reference" in widget.status.value
    lines = (datasets_copy / "tasks" / "qa.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["id"] == "qa-pg-001"
