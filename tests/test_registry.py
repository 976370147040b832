"""workbench.registry: one decorated definition per plug-in, selectable by name, for every kind;
plug-ins from the `workbench.plugins` entry-point group; unknown names list the known ones."""

from __future__ import annotations

import json
import sys
import textwrap

import numpy as np
import pytest

from workbench import registry
from workbench.errors import UnknownName, WorkbenchError
from workbench.safety.detectors import Detection


@pytest.fixture
def clean_registry():
    """Registrations made by a test are removed after it."""
    saved = {k: dict(v) for k, v in registry._ENTRIES.items()}
    yield
    for kind, entries in saved.items():
        registry._ENTRIES[kind].clear()
        registry._ENTRIES[kind].update(entries)


@pytest.mark.unit
def test_every_kind_lists_its_built_ins():
    assert {"transformers", "openai", "sentence-transformers"} <= set(registry.names("provider"))
    assert {"exact_match", "bleu", "rouge_l"} <= set(registry.names("metric"))
    assert {"base64", "leetspeak", "paraphrase"} <= set(registry.names("mutator"))
    assert registry.names("detector") == ["canary", "secret", "marker", "refusal_expected"]
    assert registry.names("chunker") == ["fixed", "sentence", "recursive"]
    assert registry.names("retriever") == ["dense", "bm25", "hybrid"]


@pytest.mark.unit
def test_an_unknown_name_is_a_user_error_that_lists_the_known_ones():
    with pytest.raises(
        UnknownName, match=r"parameter chunkers: unknown chunker 'paragraph'.*fixed"
    ):
        registry.get("chunker", "paragraph", what="parameter chunkers")
    assert issubclass(UnknownName, WorkbenchError) and issubclass(UnknownName, KeyError)
    with pytest.raises(ValueError, match="unknown registry kind"):
        registry.names("widget")


@pytest.mark.unit
def test_providers_declare_capabilities_instead_of_being_tested_by_class():
    from workbench.llm import OpenAIProvider, TransformersProvider

    assert TransformersProvider.capabilities >= {"local_logprobs", "constrained_decoding"}
    assert "local_logprobs" not in OpenAIProvider.capabilities
    assert registry.entry("provider", "transformers").info["local"] is True
    assert registry.entry("provider", "openai").info["local"] is False


@pytest.mark.unit
def test_a_new_mutator_is_one_decorated_function_and_chains_by_name(clean_registry):
    from workbench import fuzz

    @registry.mutator("reverse", description="the text backwards")
    def reverse(text, rng):
        return text[::-1]

    assert fuzz.parse_chain("reverse+base64") == ("reverse", "base64")
    assert fuzz.mutate("abc", "reverse", seed=0) == "cba"
    assert "reverse" in fuzz.MUTATORS and "reverse" in fuzz.known_mutators()


@pytest.mark.unit
def test_a_new_chunker_is_selectable_by_name(clean_registry):
    from workbench import rag
    from workbench.rag.chunking import Chunk

    @registry.chunker("lines", description="one chunk per line")
    def lines(doc, size, overlap=0, model=""):
        out, start = [], 0
        for i, line in enumerate(doc.text.split("\n")):
            out.append(Chunk(f"{doc.id}#l{i}", doc.id, start, start + len(line), line))
            start += len(line) + 1
        return out

    doc = rag.Document("d", "one\ntwo", "d.md")
    assert [c.text for c in rag.chunk_corpus([doc], "lines", 10)] == ["one", "two"]
    assert "lines" in rag.CHUNKERS


@pytest.mark.unit
def test_a_new_retriever_is_selectable_by_name(clean_registry):
    from workbench.rag import Index
    from workbench.rag.chunking import Chunk

    @registry.retriever("last_first", description="the chunks in reverse order")
    def last_first(index, queries, qv, pool, **options):
        n = len(index.chunks)
        return [[(i, 1.0) for i in range(n - 1, -1, -1)][:pool] for _ in queries]

    chunks = [Chunk(f"c{i}", "d", 0, 1, "x") for i in range(3)]
    index = Index(chunks, np.zeros((3, 2), dtype=np.float32), "all-minilm-l6-v2")
    [hits] = index.search(["q"], "last_first", k=2)
    assert [h.chunk.id for h in hits] == ["c2", "c1"]


@pytest.mark.unit
def test_a_new_detector_is_a_success_criterion_attack_rows_may_name(clean_registry, datasets_copy):
    import json

    from workbench import fuzz
    from workbench.fuzz.campaign import score

    @registry.detector("shouting", description="the reply is all capitals")
    def shouting(output, target):
        return Detection(output.isupper(), "reply shouts")

    row = {"id": "s-1", "category": "jailbreak", "prompt": "p", "success": {"shouting": True}}
    (datasets_copy / "adversarial" / "loud.jsonl").write_text(json.dumps(row) + "\n")
    [loaded] = fuzz.load_attacks("adversarial/loud.jsonl")
    attack = fuzz.Attack("s-1/plain", "jailbreak", "p", "s-1", success=(("shouting", True),))
    assert loaded["success"] == {"shouting": True}
    assert score(attack, "SURE THING", fuzz.Plant.from_seed(0)) == (True, "reply shouts")
    assert score(attack, "sure thing", fuzz.Plant.from_seed(0))[0] is False


@pytest.mark.unit
def test_a_new_metric_is_selectable_by_name(clean_registry):
    from workbench import metrics

    @metrics.metric("starts_same", "1 when prediction and reference share the first letter")
    def starts_same(prediction, reference, **_):
        return metrics.MetricResult(float(prediction[:1] == reference[:1]))

    assert [r.value for r in metrics.score("starts_same", ["ab", "b"], ["ax", "c"])] == [1.0, 0.0]
    assert metrics.description("starts_same").startswith("1 when")


def _installed_plugin(folder, monkeypatch, dist_name: str, entry: str) -> None:
    """A distribution on sys.path that declares `entry` in the `workbench.plugins` group, and a
    registry that has not loaded plug-ins yet."""
    dist = folder / f"{dist_name.replace('-', '_')}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[workbench.plugins]\n{entry}\n")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(registry, "_plugins_loaded", False)


@pytest.mark.unit
def test_plug_ins_register_through_the_entry_point_group(tmp_path, monkeypatch, clean_registry):
    package = tmp_path / "wb_example_plugin.py"
    package.write_text(
        textwrap.dedent(
            """
            from workbench import registry

            @registry.mutator("shout", description="upper case")
            def shout(text, rng):
                return text.upper()
            """
        )
    )
    _installed_plugin(tmp_path, monkeypatch, "wb-example-plugin", "example = wb_example_plugin")
    assert registry.load_plugins() == ["example"]
    assert registry.get("mutator", "shout")("hi", None) == "HI"
    sys.modules.pop("wb_example_plugin", None)


@pytest.mark.unit
def test_a_broken_plug_in_is_reported_and_skipped(tmp_path, monkeypatch, caplog):
    _installed_plugin(tmp_path, monkeypatch, "wb-broken", "broken = wb_no_such_module")
    assert registry.load_plugins() == []
    assert "broken" in caplog.text and "failed to load" in caplog.text


@pytest.mark.unit
def test_a_new_provider_is_selectable_from_the_catalog(clean_registry, datasets_copy):
    from conftest import add_catalog_entry

    from workbench.llm import Provider, Response, generate_many, get_provider
    from workbench.llm import Request as Req

    @registry.provider("canned", local=True, description="answers 'ok' (a test double)")
    class Canned(Provider):
        remote = False
        capabilities = frozenset({"generate"})

        async def generate_batch(self, requests, timeout):
            return [Response(text="ok") for _ in requests]

    add_catalog_entry(datasets_copy, id="canned-1", provider="canned", kind="chat", model="x")
    [resp] = generate_many("canned-1", [Req.from_prompt("hi")], progress=False, cache=False)
    assert resp.text == "ok" and get_provider("canned-1").supports("generate")


@pytest.mark.unit
def test_a_plug_in_model_mutator_records_its_model_and_replays(clean_registry):
    from workbench import fuzz

    @registry.mutator("echo_model", description="test double of a model rewrite", model=True)
    def echo_model(texts, seeds, model):
        return [f"{model} says: {t}" for t in texts]

    seed = {"id": "a", "category": "jailbreak", "prompt": "hello", "success": {"marker": "X"}}
    [attack] = fuzz.expand(seed, [("echo_model",)], seed=0, paraphraser="m1")
    assert attack.text == "m1 says: hello" and attack.paraphraser == "m1"
    assert fuzz.replay(attack, "hello") == attack.text


@pytest.mark.unit
def test_a_registered_tool_runs_as_an_execute_tool_span(tmp_path, clean_registry):
    from workbench import trace

    @registry.tool("days_between", description="days from one ISO date to another")
    def days_between(start: str, end: str) -> int:
        from datetime import date

        return (date.fromisoformat(end) - date.fromisoformat(start)).days

    assert registry.call_tool("days_between", {"start": "2026-01-01", "end": "2026-01-31"}) == 30
    store = trace.enable(tmp_path / "t.sqlite")
    try:
        with trace.span("agent"):
            registry.call_tool("days_between", {"start": "2026-01-01", "end": "2026-03-01"}, "c1")
            with pytest.raises(ValueError):
                registry.call_tool("days_between", {"start": "soon", "end": "2026-03-01"}, "c2")
    finally:
        trace.disable()
    ok, failed = [s for s in store.spans() if s["name"] == "execute_tool days_between"]
    a = ok["attributes"]
    assert a["gen_ai.operation.name"] == "execute_tool" and a["gen_ai.tool.call.id"] == "c1"
    assert json.loads(a["gen_ai.tool.call.arguments"]) == {
        "start": "2026-01-01",
        "end": "2026-03-01",
    }
    assert a["gen_ai.tool.call.result"] == 59 and ok["parent_id"] is not None
    assert failed["status"] == "ERROR" and failed["attributes"]["error.type"] == "ValueError"
    with pytest.raises(registry.UnknownName, match="unknown tool 'nope'"):
        registry.call_tool("nope", {})
