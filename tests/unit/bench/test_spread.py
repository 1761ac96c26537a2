"""The arrival half-spread and spread in ticks (SPEC §8 ``half_spread_bps``) and savings in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from alpaca_sim.market import QuoteTick
from rebalance_executor.bench.paired import PairedDiff
from rebalance_executor.bench.spread import (
    half_spread_bps,
    saving,
    spread_ticks,
    weighted_half_spread,
    weighted_spread_ticks,
)

D = Decimal
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _quote(bid: str, ask: str) -> QuoteTick:
    return QuoteTick("X", 0, T0, D(bid), D(ask), D(100), D(100))


@dataclass(frozen=True)
class _Item:
    filled_notional: Decimal
    arrival_half_spread_bps: Decimal | None
    arrival_spread_ticks: Decimal | None


def test_a_one_cent_spread_on_a_600_dollar_etf_is_one_tick_and_a_twelfth_of_a_bp() -> None:
    quote = _quote("599.99", "600.00")
    assert spread_ticks(quote) == 1
    half = half_spread_bps(quote)
    assert half is not None
    assert half == pytest.approx(D("0.0833340"), abs=D("1e-7"))


def test_ticks_follow_the_sub_dollar_price_band() -> None:
    assert spread_ticks(_quote("0.5000", "0.5003")) == 3  # $0.0001 ticks below $1
    assert spread_ticks(_quote("45.00", "45.11")) == 11


@pytest.mark.parametrize(("bid", "ask"), [("0", "10.01"), ("10.01", "10.01"), ("10.02", "10")])
def test_a_one_sided_locked_or_crossed_quote_has_no_spread(bid: str, ask: str) -> None:
    assert half_spread_bps(_quote(bid, ask)) is None
    assert spread_ticks(_quote(bid, ask)) is None
    assert half_spread_bps(None) is None


def test_pooling_weights_by_filled_notional_and_skips_unfilled_or_unmeasured_items() -> None:
    items = [
        _Item(D(3000), D(1), D(1)),
        _Item(D(1000), D(5), D(3)),
        _Item(D(0), D(100), D(100)),  # nothing filled
        _Item(D(9000), None, None),  # no arrival quote
    ]
    assert weighted_half_spread(items) == 2  # (3000 x 1 + 1000 x 5) / 4000
    assert weighted_spread_ticks(items) == D("1.5")
    assert weighted_half_spread([]) is None


def test_a_saving_is_the_paired_difference_turned_around_and_measured_in_half_spreads() -> None:
    diff = PairedDiff(D("-0.5"), D("0.1"), (D("-0.7"), D("-0.3")), 30)  # policy - baseline
    value = saving(diff, D(2))
    assert value is not None
    assert value.saving_bps == D("0.5")
    assert value.fraction == D("0.25")
    assert value.ci95 == (D("0.15"), D("0.35"))
    assert value.n == 30
    assert saving(PairedDiff(D(1), None, None, 1), D(2)).ci95 is None  # type: ignore[union-attr]
    assert saving(diff, None) is None
    assert saving(diff, D(0)) is None
    assert saving(None, D(2)) is None
