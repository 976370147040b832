"""workbench.rag.pipeline and ragas_eval: the gold set, the grid, abstention, ragas metrics."""

import json

import pytest
from conftest import add_catalog_entry, fake_model_entry
from fake_openai import FakeOpenAIServer

from workbench import config, tracking
from workbench.data import DataError
from workbench.rag import pipeline, ragas_eval


@pytest.fixture(scope="module")
def docs():
    return pipeline.load_corpus(config.datasets_dir() / "kb")


@pytest.mark.unit
def test_gold_set_shape(docs):
    qa = pipeline.load_qa(None, docs)
    types = [q["type"] for q in qa]
    assert len(docs) >= 30 and len(qa) >= 80
    assert types.count("unanswerable") >= 10 and types.count("multi_hop") >= 10
    assert all(len(q["doc_ids"]) == 2 for q in qa if q["type"] == "multi_hop")
    assert all(not q["spans"] for q in qa if q["type"] == "unanswerable")


@pytest.mark.unit
def test_a_span_that_does_not_match_its_document_names_file_and_line(docs, datasets_copy):
    path = datasets_copy / "rag_qa.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    rows[2]["spans"][0]["start"] += 3
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"rag_qa.jsonl:3: span text does not match"):
        pipeline.load_qa(None, docs)


@pytest.mark.unit
def test_only_fixed_chunks_take_an_overlap():
    cfgs = pipeline.configurations(
        ["fixed", "recursive"], [64], [0, 16], ["dense", "hybrid"], [0.3, 0.7]
    )
    assert {(c["chunker"], c["overlap"]) for c in cfgs} == {
        ("fixed", 0),
        ("fixed", 16),
        ("recursive", 0),
    }
    assert sum(c["retriever"] == "hybrid" for c in cfgs) == 6
    with_mmr = pipeline.configurations(
        ["fixed"], [64], [0], ["dense"], [0.5], mmr_lambdas=[0.5, 0.9]
    )
    assert [c["mmr_lambda"] for c in with_mmr] == [0.5, 0.9]


@pytest.mark.integration
def test_grid_embeds_each_chunk_once_and_records_cache_hits(docs):
    qa = pipeline.load_qa(None, docs)
    grid, indexes = pipeline.run_grid(
        docs,
        qa,
        chunkers=["fixed", "sentence"],
        sizes=[64],
        overlaps=[0],
        retrievers=["dense", "bm25", "hybrid"],
        hybrid_weights=[0.5],
        ks=[1, 3],
    )
    texts = {c.text for index in indexes.values() for c in index.chunks}
    queries = {q["question"] for q in qa if q["spans"]}
    cache = tracking.current().data["cache"]
    assert cache["embedding_misses"] == len(texts | queries)
    assert cache["embedding_hits"] > 0
    summary = pipeline.summarise(grid)
    assert len(summary) == 2 * 3 * 2 and summary["recall"].between(0, 1).all()
    k1 = summary[summary.k == 1]
    k3 = summary[summary.k == 3]
    assert k3["recall"].mean() >= k1["recall"].mean()


@pytest.mark.unit
def test_abstention_detection():
    assert pipeline.ABSTAIN.search("I don't know.")
    assert pipeline.ABSTAIN.search("The context does not say how much it costs.")
    assert not pipeline.ABSTAIN.search("Frames are covered up to 150 EUR.")


SAMPLE = {
    "user_input": "Are glasses covered?",
    "response": "Yes, frames up to 150 EUR.",
    "reference": "Yes: frames up to 150 EUR every 24 months.",
    "retrieved_contexts": [
        "Prescription glasses: frames are covered up to 150 EUR every 24 months."
    ],
    "reference_contexts": [
        "Prescription glasses: frames are covered up to 150 EUR every 24 months."
    ],
}


@pytest.mark.unit
def test_ragas_non_llm_metrics_run_offline():
    scores, failures = ragas_eval.score([SAMPLE], llm_metrics=False)
    assert failures.empty and set(scores.metric) == set(ragas_eval.NON_LLM)
    values = dict(zip(scores.metric, scores.value, strict=True))
    assert values["non_llm_context_recall"] == 1.0 and 0 < values["rouge_score"] <= 1


@pytest.mark.integration
def test_ragas_llm_metrics_count_unparseable_judge_output_with_reasons(datasets_copy):
    with FakeOpenAIServer(default="say:I am not sure what you mean") as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("judge", server.base_url))
        scores, failures = ragas_eval.score([SAMPLE], judge_model="judge", max_tokens=32)
    llm = scores[scores.metric.isin(ragas_eval.LLM)]
    assert len(llm) == 2 and llm["value"].isna().all()
    assert set(failures.metric) == set(ragas_eval.LLM) and failures["reason"].str.len().gt(0).all()
    table = ragas_eval.summary_table(scores.assign(config="c"))
    assert table.loc["faithfulness", "c"] == "none scored (0 / 1)"


@pytest.mark.unit
def test_the_schema_a_ragas_prompt_asks_for_is_extracted():
    from ragas.metrics._faithfulness import StatementGeneratorPrompt

    prompt = StatementGeneratorPrompt().to_string()
    schema = ragas_eval.output_schema(prompt)
    assert schema and "statements" in schema["properties"]
    assert ragas_eval.output_schema("no schema here") is None


@pytest.mark.integration
def test_local_model_answers_in_the_requested_json_schema():
    from workbench.llm import Request, generate_many

    schema = {
        "type": "object",
        "properties": {
            "verdict": {"type": "integer", "enum": [0, 1]},
            "reason": {"type": "string"},
        },
        "required": ["verdict", "reason"],
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "v", "schema": schema}}
    reqs = [
        Request.from_prompt(f"Is {x} a fruit? Answer as JSON.", max_tokens=60, response_format=fmt)
        for x in ("an apple", "a car")
    ]
    for r in generate_many("smollm2-135m-instruct", reqs, progress=False):
        data = json.loads(r.text)
        assert data["verdict"] in (0, 1) and isinstance(data["reason"], str)


@pytest.mark.unit
def test_supports_given_as_quotes_are_located_in_their_documents(docs, datasets_copy):
    path = datasets_copy / "rag_qa.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    original = pipeline.load_qa(None, docs)
    # The same gold set, written by a user who quotes the supporting text instead of offsets;
    # one quote has its line break and spacing changed, as text copied from a page would.
    quoted = []
    for i, row in enumerate(rows):
        spans = [[s["doc"], s["text"]] for s in row["spans"]]
        if i == 0 and spans:
            spans[0][1] = "  " + spans[0][1].replace(" ", "\n", 1)
            spans[0] = {"doc": spans[0][0], "quote": spans[0][1]}
        quoted.append({**row, "spans": spans})
    path.write_text("".join(json.dumps(r) + "\n" for r in quoted))
    located = pipeline.load_qa(None, docs)
    assert [q["spans"] for q in located] == [q["spans"] for q in original]


@pytest.mark.unit
def test_a_quote_not_in_its_document_names_file_and_line(docs, datasets_copy):
    path = datasets_copy / "rag_qa.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    rows[4]["spans"] = [[rows[4]["spans"][0]["doc"], "words that appear in no policy at all"]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"rag_qa.jsonl:5: quote not found in document"):
        pipeline.load_qa(None, docs)


@pytest.mark.unit
def test_abstention_and_answering_are_reported_apart_with_counts():
    import pandas as pd

    # A model that never abstains: with 1 unanswerable question of 4, a single "abstention
    # accuracy" would read 0.75; the two rates say 0 of 1 and 3 of 3.
    answers = pd.DataFrame(
        {
            "config": ["#1"] * 4,
            "type": ["single", "single", "multi_hop", "unanswerable"],
            "abstained": [False] * 4,
            "error": [None] * 4,
        }
    )
    row = pipeline.abstention_table(answers).loc["#1"]
    assert row["abstained on unanswerable"] == "0 of 1" and row["abstention rate"] == 0.0
    assert row["answered answerable"] == "3 of 3" and row["answer rate"] == 1.0


@pytest.mark.unit
def test_query_latency_excludes_a_first_use_warm_up(docs, monkeypatch):
    import time

    from workbench.rag.index import Index

    calls = {"n": 0}
    real = Index.search

    def slow_first_search(self, *args, **kwargs):  # test double: the first use costs 300 ms
        calls["n"] += 1
        if calls["n"] == 1:
            time.sleep(0.3)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Index, "search", slow_first_search)
    qa = pipeline.load_qa(None, docs)[:6]
    grid, _ = pipeline.run_grid(
        docs,
        qa,
        chunkers=["sentence"],
        sizes=[128],
        overlaps=[0],
        retrievers=["bm25"],
        hybrid_weights=[0.5],
        ks=[3],
    )
    assert grid["query_s"].max() < 0.2


@pytest.mark.integration
def test_a_failed_judge_call_is_reported_at_once_not_retried_by_ragas(datasets_copy):
    import time

    # generate_many already retried; ragas' own retries (10, with back-off up to a minute)
    # would only wait for the same failure.
    with FakeOpenAIServer(default="400") as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("judge", server.base_url))
        started = time.perf_counter()
        scores, failures = ragas_eval.score([SAMPLE], judge_model="judge", max_tokens=32)
        elapsed = time.perf_counter() - started
    assert set(failures.metric) == set(ragas_eval.LLM)
    assert failures["reason"].str.contains("HTTP 400").all()
    assert elapsed < 10 and len(server.requests) <= 4
