"""workbench.stats: bootstrap intervals."""

import numpy as np
import pytest

from workbench import stats


@pytest.mark.unit
def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    values = np.random.default_rng(1).normal(0.5, 0.1, 200)
    mean, lo, hi = stats.bootstrap_ci(values, seed=3)
    assert lo < mean < hi and mean == pytest.approx(values.mean())
    assert (hi - lo) == pytest.approx(2 * 1.96 * values.std() / np.sqrt(200), rel=0.2)
    assert stats.bootstrap_ci(values, seed=3) == (mean, lo, hi)


@pytest.mark.unit
def test_constant_and_single_values_have_zero_width():
    assert stats.bootstrap_ci([0.3, 0.3, 0.3]) == (0.3, 0.3, 0.3)
    assert stats.bootstrap_ci([1.0]) == (1.0, 1.0, 1.0)


@pytest.mark.unit
def test_nan_is_an_error_not_dropped():
    with pytest.raises(ValueError, match="NaN"):
        stats.bootstrap_ci([0.1, float("nan")])


@pytest.mark.unit
def test_stratified_macro_mean():
    mean, lo, hi = stats.stratified_bootstrap_ci([[1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    assert mean == 0.5 and lo == hi == 0.5


@pytest.mark.unit
def test_percentile_skips_missing_values():
    assert stats.percentile([1.0, None, 3.0], 50) == 2.0
    assert stats.percentile([None], 50) is None
