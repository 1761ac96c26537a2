"""Tick rounding, passive/marketable prices, collar bounds and quote guards."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import Side
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.executor.policies import round_to_tick, tick_size
from rebalance_executor.executor.policies.pricing import (
    clamp,
    collar_bound,
    is_marketable,
    passive_price,
    quote_problem,
    through_far,
    within,
)
from tests.unit.policies.inputs import quote, state

D = Decimal


@pytest.mark.parametrize(
    ("price", "side", "expected"),
    [
        ("100.123", Side.BUY, "100.12"),
        ("100.123", Side.SELL, "100.13"),
        ("100.12", Side.SELL, "100.12"),
        ("1.00", Side.BUY, "1.00"),
        ("0.85437", Side.BUY, "0.8543"),
        ("0.85431", Side.SELL, "0.8544"),
    ],
)
def test_round_to_tick_is_never_more_aggressive(price: str, side: Side, expected: str) -> None:
    assert round_to_tick(D(price), side) == D(expected)


def test_tick_size_is_a_cent_from_one_dollar() -> None:
    assert tick_size(D("1")) == D("0.01")
    assert tick_size(D("0.9999")) == D("0.0001")


def test_passive_price_moves_from_near_to_far_touch() -> None:
    q = quote("100.00", "100.10")
    assert passive_price(q, Side.BUY, D(0)) == D("100.00")
    assert passive_price(q, Side.BUY, D("0.25")) == D("100.02")  # 100.025 rounded down
    assert passive_price(q, Side.BUY, D(1)) == D("100.10")
    assert passive_price(q, Side.SELL, D(0)) == D("100.10")
    assert passive_price(q, Side.SELL, D("0.25")) == D("100.08")  # 100.075 rounded up


def test_through_far_is_marketable_after_rounding() -> None:
    q = quote("100.00", "100.10")
    buy = through_far(q, Side.BUY, D(10))
    sell = through_far(q, Side.SELL, D(10))
    assert buy == D("100.21")  # 100.2001 rounded up
    assert sell == D("99.90")
    assert is_marketable(buy, q, Side.BUY)
    assert is_marketable(sell, q, Side.SELL)
    assert not is_marketable(D("100.09"), q, Side.BUY)
    assert not is_marketable(None, q, Side.BUY)


def test_collar_bound_rounds_inward() -> None:
    assert collar_bound(D("100.005"), Side.BUY, D(150)) == D("101.50")
    assert collar_bound(D("100.005"), Side.SELL, D(150)) == D("98.51")
    assert within(D("101.50"), D("101.50"), Side.BUY)
    assert not within(D("101.51"), D("101.50"), Side.BUY)
    assert not within(D("98.50"), D("98.51"), Side.SELL)
    assert clamp(D("102"), D("101.50"), Side.BUY) == D("101.50")
    assert clamp(D("98"), D("98.51"), Side.SELL) == D("98.51")


def test_quote_guards() -> None:
    config = ExecutionConfig(quote_max_age_s=5.0, max_spread_bps=D(50))
    assert quote_problem(state(quote("100.00", "100.02")), config) is None
    assert quote_problem(state(None), config) == "no quote"
    crossed = quote_problem(state(quote("100.02", "100.00")), config)
    assert crossed == "crossed quote bid=100.02 ask=100.00"
    empty = quote_problem(state(quote("0", "1.00")), config)
    assert empty == "one-sided quote: no bid (bid=0 ask=1.00)"
    stale = quote_problem(state(quote("100.00", "100.02", age_s=6)), config)
    assert stale is not None
    assert "old" in stale
    wide = quote_problem(state(quote("100.00", "101.00")), config)
    assert wide is not None
    assert "spread" in wide
