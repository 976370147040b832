"""workbench.chains.compare: chain variants on the same tasks, with experiment's paired tests."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.chains import compare


def _table(chain: str, passed: list[bool]) -> pd.DataFrame:
    n = len(passed)
    return pd.DataFrame(
        {
            "id": [f"t{i}" for i in range(n)],
            "chain": chain,
            "version": f"{chain}-v1",
            "passed": passed,
            "correct": passed,
            "tool_call_accuracy": [float(p) for p in passed],
            "tool_call_f1": [float(p) for p in passed],
            "stopped": "answer",
            "failure": ["" if p else "wrong tool" for p in passed],
            "answer": ["a"] * n,
            "input": [f"q{i}" for i in range(n)],
            "reference": ["a"] * n,
            "latency_s": 1.0,
            "cached": False,
            "tokens": 100,
            "cost_usd": 0.0,
        }
    )


@pytest.mark.unit
def test_chains_compared_on_the_same_tasks_with_paired_statistics_and_flips():
    base = _table("rag", [False] * 20)
    agent = _table("agent", [True] * 16 + [False] * 4)
    extra = pd.concat([agent, _table("agent", [True]).assign(id="only-agent")])
    summary, against = compare.compare([base, extra], baseline="rag")
    summary = summary.set_index("variant")
    assert summary.loc["agent", "tasks"] == 20  # the task only one chain ran is left out
    assert summary.loc["agent", "passed"] == pytest.approx(0.8)
    assert summary.loc["agent", "tokens_mean"] == 100
    row = against[(against.metric == "passed")].iloc[0]
    assert row["variant"] == "agent" and row["verdict"] == "better" and row["p_value"] < 0.01
    flips = compare.flipped([base, agent], "rag", "agent")
    assert len(flips) == 16 and set(flips.direction) == {"improved"}
