"""In-process generation shared out over Ray actors: the same answers as in-process greedy
decoding, the same cache and usage accounting."""

from __future__ import annotations

import pytest

from workbench import llm, tracking
from workbench.cache import ResponseCache
from workbench.errors import ParameterError
from workbench.llm import Request

QUESTIONS = [
    "Name a colour.",
    "What is 2+2?",
    "Say hello in French.",
    "Name a fruit.",
    "Count to three.",
]


def _requests() -> list[Request]:
    return [
        Request(messages=[{"role": "user", "content": q}], max_tokens=10, temperature=0.0)
        for q in QUESTIONS
    ]


@pytest.mark.integration
def test_sharded_generation_equals_in_process_and_keeps_cache_and_usage(tmp_path, ray_session):
    model = "smollm2-135m-instruct"
    local = llm.generate_many(model, _requests(), cache=False, progress=False, batch_size=2)
    cache = ResponseCache(tmp_path / "shard-cache.sqlite")
    sharded = llm.generate_many(
        model, _requests(), cache=cache, progress=False, batch_size=2, executor="ray", shards=2
    )
    assert [r.error for r in sharded] == [None] * len(QUESTIONS)
    assert [r.text for r in sharded] == [r.text for r in local]
    assert [r.completion_tokens for r in sharded] == [r.completion_tokens for r in local]
    assert all(r.model == model and not r.cached for r in sharded)
    record = tracking.current().data
    assert record["usage"]["calls"] == 2 * len(QUESTIONS) and record["usage"]["errors"] == 0
    again = llm.generate_many(model, _requests(), cache=cache, progress=False, executor="ray")
    assert all(r.cached for r in again) and [r.text for r in again] == [r.text for r in local]
    assert record["cache"]["hits"] == len(QUESTIONS)


@pytest.mark.unit
def test_sharding_an_http_model_or_an_unknown_executor_is_an_error():
    with pytest.raises(ParameterError, match="smollm2-135m-instruct-http is an HTTP endpoint"):
        llm.generate_many("smollm2-135m-instruct-http", _requests(), executor="ray")
    with pytest.raises(ParameterError, match="unknown executor 'spark'"):
        llm.generate_many("smollm2-135m-instruct", _requests(), executor="spark")


@pytest.mark.integration
def test_shard_actors_leave_the_cpus_to_later_ray_tasks(ray_session):
    llm.generate_many("smollm2-135m-instruct", _requests()[:2], cache=False, progress=False,
                      executor="ray", shards=2)  # fmt: skip # one call
    # Both CPUs of the test's Ray stay free for a task (a sweep's run) while the actors live.
    assert ray_session.available_resources().get("CPU") == 2
