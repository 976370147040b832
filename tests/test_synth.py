"""workbench.synth: sources, generation through generate_many, correction, the pipeline."""

import pytest
from conftest import add_catalog_entry, fake_model_entry
from fake_openai import FakeOpenAIServer

from workbench import synth
from workbench.data import DataError


@pytest.fixture
def fake(datasets_copy):
    with FakeOpenAIServer() as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("gen", server.base_url))
        yield server


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "hotels.md").write_text(
        "# Hotels\n\nHotels are reimbursed up to 140 EUR per night in most cities and up to 200 EUR per "
        "night in capital cities.\n\n## Meals\n\nThe daily meal allowance is 45 EUR; alcohol is never paid.\n"
    )
    (folder / "leave.md").write_text(
        "# Leave\n\nThe second parent gets 10 weeks at full pay within 12 months.\n"
    )
    return folder


@pytest.mark.unit
def test_malformed_documents_name_file_and_line(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.md").write_bytes(b"fine line\nsecond line \xff\xfe broken\n")
    with pytest.raises(DataError, match=r"a.md:2: not valid UTF-8"):
        synth.load_documents(folder)
    (folder / "a.md").write_text("   \n")
    with pytest.raises(DataError, match=r"a.md: empty document"):
        synth.load_documents(folder)
    with pytest.raises(DataError, match="documents folder not found"):
        synth.load_documents(tmp_path / "missing")


@pytest.mark.unit
def test_paragraph_chunks_keep_their_heading_and_document(docs):
    chunks = synth.paragraphs(synth.load_documents(docs), min_chars=20)
    assert [c.id for c in chunks] == ["hotels#0", "hotels#1", "leave#0"]
    assert chunks[1].text.startswith("Meals: The daily meal allowance")


@pytest.mark.unit
def test_answer_spans():
    spans = synth.answer_spans(
        "Up to 140 EUR per night, within 30 days, from 1 March, via the Benefits Portal."
    )
    assert {"140 EUR", "30 days", "1 March", "Benefits Portal"} <= set(spans)


@pytest.mark.integration
def test_qa_from_documents_keeps_sources_and_rejects_what_it_cannot_parse(fake, docs):
    fake.script = [
        "say:Sure.\nQuestion: What is the hotel limit in most cities?",
        "say:I cannot do that",
    ]
    fake.default = "say:How much is paid per night?"
    chunks = synth.paragraphs(synth.load_documents(docs), min_chars=20)
    rows, rejected = synth.qa_from_documents("gen", chunks, 3, seed=1, multi_hop=1, concurrency=1)
    assert len(rows) + len(rejected) == 4
    assert [r["reject_reason"] for r in rejected] == ["model output holds no question"]
    for r in rows:
        assert r["source_ids"] and r["supporting_text"] and r["reference"]
        assert r["input"].endswith(f"Question: {r['question']}")
    assert {r["strategy"] for r in rows + rejected} == {"single_hop", "multi_hop"}
    multi = next(r for r in rows + rejected if r["strategy"] == "multi_hop")
    assert len(multi["source_ids"]) == 2 and "; " in multi["reference"]


@pytest.mark.integration
def test_from_seeds_follows_the_seed_labels(fake):
    fake.default = 'say:Here is one:\n"The shop was closed again without notice."'
    seeds = [
        {"id": f"s{i}", "input": f"text {i}", "reference": "negative" if i < 3 else "positive"}
        for i in range(4)
    ]
    rows, rejected = synth.from_seeds("gen", seeds, 8, seed=0)
    assert not rejected and {r["reference"] for r in rows} <= {"negative", "positive"}
    assert rows[0]["input"] == "The shop was closed again without notice."
    assert all(set(r["source_ids"]) <= {"s0", "s1", "s2", "s3"} for r in rows)


@pytest.mark.integration
def test_correction_flags_without_overwriting(fake):
    fake.default = "say:positive"
    rows = [
        {"id": "x", "input": "Best purchase ever, I love it.", "reference": "negative"},
        {"id": "y", "input": "Great!", "reference": "positive"},
    ]
    out = synth.correct_labels("gen", rows, ["positive", "negative", "neutral"])
    assert (
        out[0]["suspect_label"]
        and out[0]["proposed_label"] == "positive"
        and out[0]["reference"] == "negative"
    )
    assert not out[1]["suspect_label"] and out[1]["proposed_label"] == ""


@pytest.mark.unit
def test_unknown_strategy_is_an_error():
    with pytest.raises(ValueError, match="unknown strategy 'magic'"):
        synth.build("tasks/sentiment.jsonl", ["magic"], "smollm2-135m-instruct", 2)


@pytest.mark.unit
def test_malformed_seed_file_names_file_and_line(datasets_copy):
    (datasets_copy / "tasks" / "bad.jsonl").write_text(
        '{"id": "1", "input": "a", "reference": "b"}\nnot json\n'
    )
    with pytest.raises(DataError, match=r"bad.jsonl:2: not valid JSON"):
        synth.build("tasks/bad.jsonl", ["from_seeds"], "smollm2-135m-instruct", 2)


@pytest.mark.integration
def test_a_label_checker_that_prefers_one_label_for_every_row_is_flagged(fake):
    from workbench import tracking

    fake.default = "say:positive"
    rows = [
        {"id": str(i), "input": f"Review number {i}.", "reference": "negative"} for i in range(6)
    ]
    synth.correct_labels("gen", rows, ["positive", "negative", "neutral"])
    check = tracking.current().data["judge_checks"]["label-check:gen"]
    assert (
        not check["passed"] and "6 of 6 answers the same verdict (positive)" in check["problems"][0]
    )
