"""workbench.llm: providers, generate_many, retries, timeouts, cache behaviour."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import add_catalog_entry, fake_model_entry, free_port
from fake_openai import FakeOpenAIServer

from workbench import llm, serving
from workbench.cache import ResponseCache
from workbench.llm import Request, generate_many

QUICK = {"backoff_base": 0.01, "backoff_cap": 2.0}


def _requests(n: int, **kw) -> list[Request]:
    return [Request.from_prompt(f"question {i}", max_tokens=8, **kw) for i in range(n)]


@pytest.fixture
def fake(datasets_copy):
    with FakeOpenAIServer() as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("fake", server.base_url))
        yield server


@pytest.mark.integration
def test_http_provider_returns_text_usage_cost_and_ttft(fake):
    [resp] = generate_many("fake", _requests(1), progress=False)
    assert resp.ok, resp.error
    assert resp.text == "echo: question 0"
    assert resp.prompt_tokens == 7 and resp.completion_tokens == 3
    assert resp.cost_usd == pytest.approx((7 * 1.0 + 3 * 2.0) / 1e6)
    assert resp.ttft_s is not None and 0 < resp.ttft_s <= resp.latency_s
    assert fake.requests[0]["stream"] is True


@pytest.mark.integration
def test_results_keep_request_order_under_concurrency(fake):
    reqs = _requests(12)
    out = generate_many("fake", reqs, concurrency=6, progress=False)
    assert [r.text for r in out] == [f"echo: question {i}" for i in range(12)]


@pytest.mark.integration
def test_second_run_comes_from_cache_and_repeat_index_is_part_of_the_key(fake):
    reqs = _requests(3)
    generate_many("fake", reqs, progress=False)
    again = generate_many("fake", reqs, progress=False)
    assert all(r.cached for r in again) and len(fake.requests) == 3
    generate_many("fake", _requests(3, repeat=1), progress=False)
    assert len(fake.requests) == 6


@pytest.mark.integration
def test_every_generation_parameter_changes_the_cache_key(fake):
    base = Request.from_prompt("q", max_tokens=8)
    variants = [
        Request.from_prompt("q", max_tokens=9),
        Request.from_prompt("q", max_tokens=8, temperature=0.5),
        Request.from_prompt("q", max_tokens=8, top_p=0.9),
        Request.from_prompt("q", max_tokens=8, stop=["x"]),
        Request.from_prompt("q", max_tokens=8, seed=1),
        Request.from_prompt("q", max_tokens=8, system="be brief"),
    ]
    generate_many("fake", [base], progress=False)
    for v in variants:
        assert not generate_many("fake", [v], progress=False)[0].cached


@pytest.mark.integration
def test_429_is_retried_after_retry_after_seconds(fake):
    fake.script = ["429:1"]
    started = time.perf_counter()
    [resp] = generate_many("fake", _requests(1), progress=False, **QUICK)
    assert resp.ok and resp.attempts == 2
    assert time.perf_counter() - started >= 1.0  # honoured, despite a 10 ms backoff base


@pytest.mark.integration
def test_500_is_retried_with_backoff_then_succeeds(fake):
    fake.script = ["500", "500"]
    [resp] = generate_many("fake", _requests(1), progress=False, **QUICK)
    assert resp.ok and resp.attempts == 3 and len(fake.requests) == 3


@pytest.mark.integration
def test_persistent_500_surfaces_a_clear_error_and_is_not_cached(fake):
    fake.default = "500"
    cache = ResponseCache(Path(os.environ["WORKBENCH_CACHE_DIR"]) / "c.sqlite")
    [resp] = generate_many(
        "fake", _requests(1), progress=False, max_retries=2, cache=cache, **QUICK
    )
    assert not resp.ok and resp.attempts == 3
    assert "HTTP 500" in resp.error and fake.base_url in resp.error and "fake" in resp.error
    assert len(cache) == 0
    fake.default = "ok"
    [again] = generate_many("fake", _requests(1), progress=False, cache=cache)
    assert again.ok and not again.cached and len(cache) == 1


@pytest.mark.integration
def test_hanging_server_times_out_per_request(fake):
    fake.script = ["hang:3", "hang:3"]
    started = time.perf_counter()
    [resp] = generate_many(
        "fake", _requests(1), progress=False, timeout=0.5, max_retries=1, **QUICK
    )
    assert not resp.ok and "0.5s" in resp.error and resp.attempts == 2
    assert time.perf_counter() - started < 2.9


@pytest.mark.unit
def test_refused_connection_is_a_clear_error(datasets_copy):
    url = f"http://127.0.0.1:{free_port()}/v1"
    add_catalog_entry(datasets_copy, **fake_model_entry("nobody", url))
    [resp] = generate_many("nobody", _requests(1), progress=False, max_retries=1, **QUICK)
    assert not resp.ok and "cannot connect" in resp.error and url in resp.error


@pytest.mark.integration
def test_one_failure_does_not_lose_the_other_results(fake):
    fake.script = ["500"] * 4  # the first request exhausts its retries
    out = generate_many("fake", _requests(4), concurrency=1, max_retries=3, progress=False, **QUICK)
    assert sum(r.ok for r in out) == 3 and sum(not r.ok for r in out) == 1


@pytest.mark.unit
def test_unknown_model_id_names_it_and_lists_known_ids():
    with pytest.raises(
        ValueError, match=r"unknown model id 'no-such-model'.*smollm2-135m-instruct"
    ):
        generate_many("no-such-model", _requests(1))


@pytest.mark.unit
def test_missing_api_key_is_reported_before_any_call(datasets_copy, monkeypatch):
    monkeypatch.delenv("WB_TEST_KEY", raising=False)
    add_catalog_entry(
        datasets_copy,
        **fake_model_entry("keyed", "http://127.0.0.1:9/v1", api_key_env="WB_TEST_KEY"),
    )
    with pytest.raises(llm.ProviderError, match="WB_TEST_KEY"):
        generate_many("keyed", _requests(1))


@pytest.mark.integration
def test_kill_9_keeps_completed_calls_and_rerun_resumes(tmp_path, datasets_copy):
    """A run killed mid-way keeps every completed call; the re-run takes them from the cache."""
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "fake_openai.py"), "0.15"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()
        add_catalog_entry(datasets_copy, **fake_model_entry("slow", base_url))
        db = tmp_path / "kill.sqlite"
        script = (
            "from workbench.llm import Request, generate_many\n"
            "from workbench.cache import ResponseCache\n"
            "reqs = [Request.from_prompt(f'q{i}', max_tokens=4) for i in range(200)]\n"
            f"generate_many('slow', reqs, concurrency=1, cache=ResponseCache({str(db)!r}), progress=False)\n"
        )
        worker = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
        deadline = time.time() + 60
        done = 0
        while time.time() < deadline and done < 5:
            time.sleep(0.2)
            if db.exists():
                try:
                    done = (
                        sqlite3.connect(db).execute("SELECT COUNT(*) FROM responses").fetchone()[0]
                    )
                except sqlite3.OperationalError:
                    done = 0
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert done >= 5, "the worker did not complete calls in time"
        kept = sqlite3.connect(db).execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        assert 5 <= kept < 200
        reqs = [Request.from_prompt(f"q{i}", max_tokens=4) for i in range(kept)]
        out = generate_many("slow", reqs, cache=ResponseCache(db), progress=False)
        assert all(r.cached for r in out)
    finally:
        server.kill()
        server.wait()


@pytest.mark.integration
def test_local_transformers_provider_batches_and_counts_tokens():
    reqs = [Request.from_prompt(f"Say the number {i}.", max_tokens=6) for i in range(5)]
    out = generate_many("smollm2-135m-instruct", reqs, progress=False)
    assert all(r.ok for r in out), [r.error for r in out]
    assert all(r.text and 0 < r.completion_tokens <= 6 for r in out)
    assert all(r.ttft_s is not None and r.ttft_s < r.latency_s for r in out)
    assert all(r.finish_reason in ("stop", "length") for r in out)
    # greedy decoding is deterministic: the same answers again, this time from the cache
    again = generate_many("smollm2-135m-instruct", reqs, progress=False)
    assert [r.text for r in again] == [r.text for r in out] and all(r.cached for r in again)
    uncached = generate_many(
        "smollm2-135m-instruct", reqs[:2], progress=False, cache=False, batch_size=1
    )
    assert [r.text for r in uncached] == [r.text for r in out[:2]]


@pytest.mark.integration
def test_local_base_model_stops_at_its_stop_strings():
    [resp] = generate_many(
        "gemma-3-270m", [Request.from_prompt("Name a colour.", max_tokens=12)], progress=False
    )
    assert resp.ok and "\n" not in resp.text and "User:" not in resp.text


@pytest.mark.integration
def test_http_provider_against_a_real_workbench_serve(datasets_copy):
    port = free_port()
    server = serving.start("smollm2-135m-instruct", port, device="cpu")
    try:
        entry = fake_model_entry("served", f"http://127.0.0.1:{port}/v1")
        entry.update(model="smollm2-135m-instruct", price_per_1m_input=0.0, price_per_1m_output=0.0)
        add_catalog_entry(datasets_copy, **entry)
        serving.wait_ready(port, server, timeout=120)
        reqs = [Request.from_prompt("What is the capital of France?", max_tokens=12)]
        [resp] = generate_many("served", reqs, progress=False, timeout=60)
        assert resp.ok, resp.error
        assert resp.text and resp.completion_tokens and resp.prompt_tokens
        assert resp.ttft_s is not None and resp.ttft_s <= resp.latency_s
    finally:
        serving.stop(server)


@pytest.mark.integration
@pytest.mark.parametrize("labels", [["1", "2", "3"], ["yes please", "no", "maybe not"]])
def test_label_logprobs_equal_a_direct_unpadded_computation(labels):
    import torch

    convs = [
        [{"role": "user", "content": "Rate 1 to 3: is water wet?"}],
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "A much longer question " * 5},
        ],
    ]
    got = llm.label_logprobs("smollm2-135m-instruct", convs, labels, cache=False)
    provider = llm.get_provider("smollm2-135m-instruct")
    model, tok = provider.load()
    for conv, scores in zip(convs, got, strict=True):
        prompt = tok(
            tok.apply_chat_template(conv, add_generation_prompt=True, tokenize=False),
            add_special_tokens=False,
        ).input_ids
        for label in labels:
            ids = tok(label, add_special_tokens=False).input_ids
            seq = torch.tensor([prompt + ids])
            with torch.inference_mode():
                logp = torch.log_softmax(model(input_ids=seq).logits.float(), dim=-1)[0]
            expected = sum(float(logp[len(prompt) - 1 + j, t]) for j, t in enumerate(ids))
            assert scores[label] == pytest.approx(expected, abs=2e-3), label


@pytest.mark.integration
def test_local_generation_has_no_wall_clock_timeout_and_keeps_its_batch():
    # A timeout far below the batch's compute time: HTTP calls would fail, local work finishes.
    reqs = [Request.from_prompt(f"Count to {i}.", max_tokens=16) for i in range(3, 6)]
    out = generate_many("smollm2-135m-instruct", reqs, timeout=0.001, cache=False, progress=False)
    assert all(r.ok for r in out), [r.error for r in out]
    assert all(r.text and r.completion_tokens for r in out)


@pytest.mark.integration
def test_failed_call_names_the_model_once_and_is_listed_in_the_run_record(fake):
    from workbench import tracking

    fake.default = "400"
    req = Request.from_prompt("q", max_tokens=4, metadata={"task": "qa", "case_id": "qa-007"})
    [resp] = generate_many("fake", [req], progress=False, **QUICK)
    assert resp.error.count("fake") == 1 or resp.error.startswith("fake: ")
    assert not resp.error.startswith("fake: fake")
    [failure] = tracking.current().data["failures"]
    assert failure["model"] == "fake" and failure["case_id"] == "qa-007"
    assert failure["task"] == "qa" and "HTTP 400" in failure["error"]


@pytest.mark.integration
def test_an_ad_hoc_model_spec_not_in_the_catalog_generates(fake):
    from workbench.models import ModelSpec

    spec = ModelSpec(id="adhoc", provider="openai", kind="chat", model="m", base_url=fake.base_url)
    [resp] = generate_many(spec, _requests(1), progress=False)
    assert resp.ok, resp.error
    assert resp.model == "adhoc" and resp.text == "echo: question 0"


@pytest.mark.unit
@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "Wed, 99 Foo 2026 25:61:00 GMT"}, None),
        ({}, None),
    ],
)
def test_retry_after_reads_seconds_and_dates_and_ignores_garbage(headers, expected):
    assert llm._retry_after(headers) == expected


@pytest.mark.integration
def test_a_429_with_an_unreadable_retry_after_is_still_retried(fake):
    fake.script = ["429:soon"]
    [resp] = generate_many("fake", _requests(1), progress=False, max_retries=2, **QUICK)
    assert resp.ok and resp.attempts == 2


@pytest.mark.integration
def test_each_retry_is_logged_with_its_reason_and_counted_in_the_run_record(fake, caplog):
    import logging

    from workbench import tracking

    fake.script = ["500", "429:0"]
    with caplog.at_level(logging.INFO, logger="workbench.llm"):
        [resp] = generate_many("fake", _requests(1), progress=False, **QUICK)
    assert resp.ok and resp.attempts == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "workbench.llm"]
    assert len(lines) == 2 and "HTTP 500" in lines[0] and "HTTP 429" in lines[1]
    assert all(line.startswith("fake: attempt") and "retrying in" in line for line in lines)
    retries = tracking.current().data["retries"]
    assert retries == {"total": 2, "by_reason": {"fake: HTTP 500": 1, "fake: HTTP 429": 1}}


@pytest.mark.unit
def test_an_edited_catalog_is_seen_even_within_the_same_timestamp(datasets_copy):
    import os

    from workbench import models

    path = datasets_copy / "models.yaml"
    add_catalog_entry(datasets_copy, **fake_model_entry("edited", "http://127.0.0.1:1/v1"))
    stamp = path.stat().st_mtime_ns
    first = llm.get_provider("edited")
    assert first.base_url == "http://127.0.0.1:1/v1"
    path.write_text(path.read_text().replace("127.0.0.1:1/v1", "127.0.0.1:2/v1"))
    os.utime(path, ns=(stamp, stamp))  # an edit the file system's clock cannot tell apart
    assert models.get_model("edited").base_url == "http://127.0.0.1:2/v1"
    assert llm.get_provider("edited").base_url == "http://127.0.0.1:2/v1"
