"""The Wilson interval without statsmodels (so `itip check` need not import it) is statsmodels' own."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from itip.stats import ALPHA, wilson_interval


@pytest.mark.parametrize(
    ("value", "n"), [(0.0, 1), (100.0, 1), (50.0, 2), (61.0, 1000), (3.5, 250), (99.9, 10_000), (12.34, 37)]
)
def test_wilson_interval_equals_statsmodels(value: float, n: int) -> None:
    low, high = proportion_confint(value / 100 * n, n, alpha=ALPHA, method="wilson")
    assert wilson_interval(value, n) == pytest.approx((low * 100, high * 100), abs=1e-9)
