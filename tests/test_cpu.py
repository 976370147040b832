"""workbench.cpu: local models use the cores other processes leave free."""

import subprocess
import sys
import time

import pytest

from workbench import cpu


@pytest.mark.unit
def test_a_fixed_thread_count_overrides_the_measurement(monkeypatch):
    monkeypatch.setenv(cpu.ENV, "3")
    assert cpu.free_cores() == 3


@pytest.mark.integration
def test_busy_processes_take_cores_away(monkeypatch):
    monkeypatch.delenv(cpu.ENV, raising=False)
    monkeypatch.setattr(cpu, "_last", None)
    idle = cpu.free_cores()
    burn = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cpu.cores())
    ]
    try:
        time.sleep(0.5)
        cpu.free_cores()  # start a look while they run
        time.sleep(1.0)
        busy = cpu.free_cores()
    finally:
        for p in burn:
            p.kill()
    assert busy == 1 and 1 <= idle <= cpu.cores()


@pytest.mark.integration
def test_greedy_answers_do_not_depend_on_the_thread_count(monkeypatch):
    from workbench.llm import Request, generate_many

    reqs = [
        Request.from_prompt(f"Write one sentence about topic {i}.", max_tokens=24) for i in range(6)
    ]
    texts = []
    for threads in ("1", "2"):
        monkeypatch.setenv(cpu.ENV, threads)
        out = generate_many("smollm2-135m-instruct", reqs, cache=False, progress=False)
        texts.append([r.text for r in out])
    assert texts[0] == texts[1]
