"""workbench.notebook: the error budget and the run-health summary every notebook ends with."""

import pytest

from workbench import notebook, tracking
from workbench.llm import Response
from workbench.models import get_model


def _calls(ok: int, failed: int) -> None:
    spec = get_model("smollm2-135m-instruct-http")
    responses = [Response(text="a") for _ in range(ok)]
    responses += [Response(error="boom", metadata={"case_id": f"c{i}"}) for i in range(failed)]
    tracking.current().record_calls(spec, responses, hits=0, misses=ok)


@pytest.mark.unit
def test_run_health_against_the_budget():
    notebook.start_run(0.25)
    _calls(3, 1)
    assert "1 of 4 model calls failed**, within the error budget" in notebook.run_health()
    _calls(0, 1)
    assert "Run not whole: 2 of 5 model calls failed" in notebook.run_health()
    assert list(notebook.failed_calls()["case_id"]) == ["c0", "c0"]


@pytest.mark.unit
def test_a_budget_outside_0_to_1_is_refused():
    with pytest.raises(ValueError, match="max_error_rate must be between 0 and 1"):
        notebook.start_run(1.5)


@pytest.mark.unit
def test_warnings_are_listed_with_the_health():
    notebook.start_run()
    tracking.current().warn("judge rubric:x cannot discriminate")
    assert "⚠ judge rubric:x cannot discriminate" in notebook.run_health()
    assert "No model calls were made." in notebook.run_health()
