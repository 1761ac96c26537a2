"""Paired candidate-vs-baseline differences over seeds (same seed = same quote path)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalance_executor.bench.report import PolicyStats
from rebalance_executor.bench.sweep import paired

D = Decimal


def _stats(*per_seed: str | None) -> PolicyStats:
    return PolicyStats(
        slippage_bps=D(0),
        slippage_bps_p95=D(0),
        fill_rate=D(1),
        wall_s=0.0,
        requests_total=0.0,
        requests_per_order=None,
        requests_per_item=None,
        peak_requests_per_min=0,
        decision_slippage_bps=None,
        executor_slippage_bps=None,
        seed_slippage_bps=tuple(None if s is None else D(s) for s in per_seed),
    )


def test_mean_and_standard_error_of_the_per_seed_differences() -> None:
    # differences -1, 0, +1 (mean 0, sample sd 1, se 1/sqrt 3) despite very different levels
    got = paired(_stats("1", "10", "101"), _stats("2", "10", "100"))
    assert got is not None
    assert got.mean_bps == 0
    assert got.se_bps is not None
    assert float(got.se_bps) == pytest.approx(3**-0.5)
    assert got.n == 3


def test_seeds_without_a_figure_on_either_side_are_left_out() -> None:
    got = paired(_stats("1", None, "3"), _stats("0", "5", None))
    assert got is not None
    assert (got.mean_bps, got.se_bps, got.n) == (D(1), None, 1)
    assert paired(_stats(None), _stats("1")) is None


def test_mismatched_seed_lists_raise() -> None:
    with pytest.raises(ValueError, match="zip"):
        paired(_stats("1", "2"), _stats("1"))
