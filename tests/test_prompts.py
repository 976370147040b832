"""workbench.prompts: versions, few-shot selection, rendering errors, variants."""

import pytest
from conftest import add_catalog_entry, fake_model_entry
from fake_openai import FakeOpenAIServer

from workbench import prompts, tracking
from workbench.data import load_task
from workbench.experiment import run_grid


@pytest.mark.unit
def test_version_is_a_hash_of_content_and_changes_with_one_character(datasets_copy):
    before = prompts.load_template("qa-zero-shot")
    assert (
        len(before.version) == 10
        and prompts.load_template("qa-zero-shot").version == before.version
    )
    path = datasets_copy / "prompts" / "qa-zero-shot.yaml"
    path.write_text(path.read_text().replace("short answer only.", "short answer only!"))
    assert prompts.load_template("qa-zero-shot").version != before.version


@pytest.mark.unit
def test_few_shot_examples_never_include_the_case_and_are_seeded():
    t = prompts.load_template("qa-three-shot")
    case = load_task("qa", track=False).cases[0]
    examples = t.examples(case)
    assert len(examples) == 3 and case["id"] not in {e["id"] for e in examples}
    assert t.examples(case) == examples
    assert t.with_overrides(seed=1).examples(case) != examples
    messages = t.render(case)
    assert [m["role"] for m in messages] == ["system"] + ["user", "assistant"] * 3 + ["user"]
    assert messages[-1]["content"] == case["input"]


@pytest.mark.unit
def test_fixed_and_similar_selection():
    fixed = prompts.load_template("sentiment-fixed-shot")
    case = load_task("sentiment", track=False).cases[5]
    assert [e["id"] for e in fixed.examples(case)] == ["sent-001", "sent-011", "sent-021"]
    # the case itself is skipped even when it is one of the fixed ids
    assert "sent-001" not in [e["id"] for e in fixed.examples({"id": "sent-001", "input": "x"})]


@pytest.mark.integration
def test_similar_selection_picks_the_nearest_cases():
    t = prompts.load_template("qa-similar-shot")
    probe = {
        "id": "probe",
        "input": "Context: The Eiffel Tower was finished in 1889.\nQuestion: When was the Eiffel Tower completed?",
    }
    assert t.examples(probe)[0]["id"] == "qa-001"


@pytest.mark.unit
def test_rendering_error_names_template_variable_and_case(datasets_copy):
    (datasets_copy / "prompts" / "broken.yaml").write_text(
        "name: broken\nsystem: 'Answer about {{ topic }}'\nuser: '{{ input }}'\nvariables: [input, topic]\n"
    )
    t = prompts.load_template("broken")
    with pytest.raises(
        prompts.PromptError, match=r"broken@\w+ \(system\): 'topic' is undefined for case 'c7'"
    ):
        t.render({"id": "c7", "input": "hello"})


@pytest.mark.unit
def test_undeclared_variable_and_bad_selection_are_load_errors(datasets_copy):
    (datasets_copy / "prompts" / "bad.yaml").write_text(
        "name: bad\nuser: '{{ question }}'\nvariables: [input]\n"
    )
    with pytest.raises(prompts.PromptError, match="undeclared variable.*question"):
        prompts.load_template("bad")
    with pytest.raises(prompts.PromptError, match="selection must be one of"):
        prompts.load_template("qa-three-shot").with_overrides(selection="best")


@pytest.mark.unit
def test_variant_overrides_have_their_own_version_and_are_recorded():
    name, t = prompts.parse_variant("qa-three-shot:k=1")
    assert name == "qa-three-shot:k=1" and t.few_shot.k == 1
    assert t.version != prompts.load_template("qa-three-shot", track=False).version
    assert tracking.current().data["prompts"]["qa-three-shot:k=1"] == t.version
    name, t = prompts.parse_variant({"name": "short", "template": "qa-three-shot", "k": 2})
    assert name == "short" and t.few_shot.k == 2


@pytest.mark.integration
def test_edited_template_is_a_new_version_and_unchanged_calls_come_from_the_cache(datasets_copy):
    with FakeOpenAIServer() as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("fake", server.base_url))
        task = load_task("qa")
        variants = dict(prompts.parse_variant(v) for v in ["qa-zero-shot", "qa-reworded"])
        first = run_grid(task, variants, ["fake"], n_cases=4)
        assert not first["cached"].any() and len(server.requests) == 8
        path = datasets_copy / "prompts" / "qa-reworded.yaml"
        path.write_text(
            path.read_text().replace("Do not write a sentence.", "Do not write a sentence!")
        )
        variants = dict(prompts.parse_variant(v) for v in ["qa-zero-shot", "qa-reworded"])
        second = run_grid(task, variants, ["fake"], n_cases=4)
    by_variant = second.groupby("variant")["cached"].all()
    assert (
        by_variant["qa-zero-shot"] and not second[second.variant == "qa-reworded"]["cached"].any()
    )
    assert len(server.requests) == 12
    old, new = (
        first.groupby("variant")["version"].first(),
        second.groupby("variant")["version"].first(),
    )
    assert old["qa-zero-shot"] == new["qa-zero-shot"] and old["qa-reworded"] != new["qa-reworded"]
    assert tracking.current().data["prompts"]["qa-reworded"] == new["qa-reworded"]


@pytest.mark.unit
def test_template_usage_reads_run_records(tmp_path):
    import json

    run = tmp_path / "reports" / "02_prompt_iteration" / "r1"
    run.mkdir(parents=True)
    (run / "run.json").write_text(
        json.dumps({"run_id": "r1", "started_at": "x", "prompts": {"qa-zero-shot": "abc"}})
    )
    assert prompts.template_usage(tmp_path / "reports") == {"qa-zero-shot": {"abc": ["r1"]}}
