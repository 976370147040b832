"""Load tests: option parsing, the figures of a level, the knee, a fault double counted as
failed requests, and a real `workbench serve` whose answers the totals match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import add_catalog_entry, fake_model_entry, free_port
from fake_openai import FakeOpenAIServer
from test_cli import run

from workbench import loadtest, runs, serving
from workbench.errors import CatalogError, ParameterError


@pytest.mark.unit
def test_levels_and_slos_are_checked():
    assert loadtest.parse_levels("1,2,4", "--concurrency") == [1, 2, 4]
    assert loadtest.parse_levels("0.5,2", "--rate", float) == [0.5, 2.0]
    for bad in ("0", "1,0", "-2", ""):
        with pytest.raises(ParameterError, match="--concurrency: every level must be > 0"):
            loadtest.parse_levels(bad, "--concurrency")
    with pytest.raises(ParameterError, match="--concurrency: expected numbers"):
        loadtest.parse_levels("one", "--concurrency")
    assert loadtest.parse_slo("ttft=0.5,e2e=5") == {"ttft": 0.5, "e2el": 5.0}
    with pytest.raises(ParameterError, match="name in ttft, tpot, itl, e2e"):
        loadtest.parse_slo("latency=3")
    with pytest.raises(ParameterError, match="is not a number"):
        loadtest.parse_slo("ttft=fast")


def _ok(ttft, e2el, tokens, itl):
    return {"ok": True, "ttft": ttft, "e2el": e2el, "output_tokens": tokens, "input_tokens": 10,
            "itl": itl, "tpot": (e2el - ttft) / (tokens - 1), "chunks": tokens}  # fmt: skip # a row


@pytest.mark.unit
def test_a_level_reports_vllm_figures_goodput_and_failures_apart():
    results = [
        _ok(0.1, 1.0, 10, [0.1] * 9),
        _ok(0.2, 2.0, 10, [0.2] * 9),
        _ok(0.9, 3.0, 8, [0.3] * 7),
        {"ok": False, "error": "HTTP 500"},
    ]
    row = loadtest.summarise(results, duration=2.0, slo={"ttft": 0.5, "e2el": 2.5}, planned=5)
    assert (row["completed"], row["failed"], row["not_sent"]) == (3, 1, 1)
    assert row["request_throughput"] == 1.5 and row["output_throughput"] == 14.0
    assert row["request_goodput"] == 1.0 and row["slo_met"] == 2  # the third misses both
    assert row["mean_ttft_ms"] == pytest.approx(400.0)
    assert row["median_e2el_ms"] == pytest.approx(2000.0)
    assert row["p99_e2el_ms"] == pytest.approx(2980.0)
    assert row["median_itl_ms"] == pytest.approx(200.0)  # over all 25 gaps
    assert row["mean_tpot_ms"] == pytest.approx((100 + 200 + 300) / 3)
    empty = loadtest.summarise([{"ok": False, "error": "x"}], duration=1.0, slo={}, planned=1)
    assert empty["completed"] == 0 and empty["median_ttft_ms"] is None  # never a zero latency
    assert empty["request_goodput"] is None


@pytest.mark.unit
def test_the_knee_is_the_last_level_before_throughput_stops_growing():
    def level(c, rps):
        return {"mode": "closed", "level": f"concurrency={c}", "request_throughput": rps}

    assert loadtest.knee([level(1, 1.0), level(2, 1.9), level(4, 2.0), level(8, 2.0)])["level"] == (
        "concurrency=2"
    )
    assert loadtest.knee([level(1, 1.0), level(2, 1.9), level(4, 3.5)]) is None


@pytest.mark.unit
def test_a_model_without_an_http_endpoint_is_refused():
    with pytest.raises(CatalogError, match="runs in-process and has no HTTP endpoint"):
        loadtest.endpoint("smollm2-135m-instruct")


@pytest.mark.integration
def test_failed_and_hanging_requests_are_counted_as_failed(datasets_copy, tmp_path):
    with FakeOpenAIServer(script=["500", "hang:3"]) as fake:
        add_catalog_entry(datasets_copy, **fake_model_entry("fake", fake.base_url))
        folder, record = loadtest.run("fake", concurrency=[2], requests=6, timeout=1.0)
        assert len(fake.requests) == 6  # no retries: a load test measures, it does not hide
        _, tolerant = loadtest.run("fake", concurrency=[2], requests=4, max_error_rate=0.5)
    assert tolerant["status"] == "succeeded"
    (level,) = record["levels"]
    assert (level["completed"], level["failed"]) == (4, 2)
    assert record["status"] == "failed" and "2 of 6 requests failed" in record["error"]["message"]
    rows = [json.loads(x) for x in (folder / "requests.jsonl").open()]
    errors = sorted(r["error"] for r in rows if not r["ok"])
    assert "HTTP 500" in errors[0] and "1.0s" in errors[1]
    assert level["total_output_tokens"] == sum(r["output_tokens"] for r in rows if r["ok"])
    page = (folder / runs.REPORT).read_text()
    assert "2 request(s) failed" in page and "HTTP 500" in page


@pytest.mark.integration
def test_a_load_test_of_workbench_serve_matches_its_answers(tmp_path):
    port = free_port()
    server = serving.start("smollm2-135m-instruct", port, device="cpu")
    try:
        serving.wait_ready(port, server, timeout=120)
        out = run(
            "loadtest", "smollm2-135m-instruct-http", "--base-url", f"http://127.0.0.1:{port}/v1",
            "--concurrency", "1,2", "--rate", "4", "--requests", "4", "--max-tokens", "8",
            "--slo", "ttft=30,e2e=60",
        )  # fmt: skip # flag/value pairs
    finally:
        serving.stop(server)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    folder = Path(summary["run_dir"])
    record = runs.read_record(folder)
    rows = [json.loads(x) for x in (folder / "requests.jsonl").open()]
    assert [lv["level"] for lv in record["levels"]] == [
        "concurrency=1",
        "concurrency=2",
        "rate=4/s",
    ]
    for lv in record["levels"]:
        mine = [r for r in rows if r["level"] == lv["level"]]
        assert lv["completed"] == len(mine) == 4 and lv["failed"] == 0
        # The server's usage counts, and the chunks it streamed (one token each), agree.
        assert lv["total_output_tokens"] == sum(r["output_tokens"] for r in mine)
        assert lv["total_output_tokens"] == sum(r["chunks"] for r in mine)
        assert lv["request_goodput"] == pytest.approx(lv["request_throughput"])  # lax SLO
        assert 0 < lv["median_ttft_ms"] <= lv["median_e2el_ms"]
    assert all(r["text"] for r in rows)
    index = (tmp_path / "reports" / "index.html").read_text()
    assert f"loadtest/{record['run_id']}/report.html" in index
