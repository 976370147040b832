"""workbench.plots: the fuzzing heatmaps show each cell's rate and counts, and leave missing cells empty."""

import matplotlib
import pytest

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

from workbench import plots  # noqa: E402


@pytest.mark.unit
def test_asr_heatmaps_label_cells_with_rate_and_counts():
    summary = pd.DataFrame(
        [
            {
                "guards": "none",
                "category": "harmful",
                "mutator": "plain",
                "asr": 0.5,
                "successes": 1,
                "attempts": 2,
            },
            {
                "guards": "none",
                "category": "jailbreak",
                "mutator": "base64",
                "asr": 0.0,
                "successes": 0,
                "attempts": 2,
            },
            {
                "guards": "both",
                "category": "harmful",
                "mutator": "plain",
                "asr": 0.0,
                "successes": 0,
                "attempts": 2,
            },
        ]
    )
    axes = plots.asr_heatmaps(summary)
    texts = [t.get_text() for t in axes[0].texts]
    assert sorted(texts) == [
        "0.00\n0/2",
        "0.50\n1/2",
    ]  # harmful/base64 and jailbreak/plain are empty
    assert [t.get_text() for t in axes[1].texts] == ["0.00\n0/2"]
    assert axes[0].get_title() == "guards: none" and axes[1].get_title() == "guards: both"
