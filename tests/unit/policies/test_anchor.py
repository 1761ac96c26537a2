"""The anchor (reference) policy: near touch + 1c, one re-peg through the far touch at 14 s,
market at 24 s (SPEC §4.5, alchemiser-quant execution_v2 @2084fe1)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import Quote, Side
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy
from rebalance_executor.executor.policies import AnchorPolicy, DesiredKind, policy_for
from rebalance_executor.executor.policies.anchor import anchor_price, repeg_price
from tests.unit.policies.inputs import limit_order, market_order, quote, state

D = Decimal
POLICY = AnchorPolicy()
CONFIG = ExecutionConfig()
WIDE = quote("100.00", "100.10")  # ten ticks
ONE_TICK = quote("100.00", "100.01")
TWO_TICKS = quote("100.00", "100.02")


def test_selected_by_setting() -> None:
    assert isinstance(policy_for(ExecutionPolicy.ANCHOR), AnchorPolicy)


@pytest.mark.parametrize(
    ("q", "side", "expected"),
    [
        (WIDE, Side.BUY, "100.01"),  # bid + 1c
        (WIDE, Side.SELL, "100.09"),  # ask - 1c
        (TWO_TICKS, Side.BUY, "100.01"),  # bid + 1c is the mid
        (TWO_TICKS, Side.SELL, "100.01"),
        (ONE_TICK, Side.BUY, "100.00"),  # bid + 1c would be the ask: joins the bid
        (ONE_TICK, Side.SELL, "100.01"),  # joins the ask
        (quote("0.5000", "0.5050"), Side.BUY, "0.5000"),  # sub-dollar: 1c is past the ask
        (quote("0.5000", "0.5050"), Side.SELL, "0.5050"),
    ],
)
def test_first_price(q: Quote, side: Side, expected: str) -> None:
    assert anchor_price(q, side) == D(expected)


@pytest.mark.parametrize(
    ("q", "side", "old", "expected"),
    [
        (WIDE, Side.BUY, None, "100.12"),  # ask + 2c: beyond the halfway point 100.055
        (WIDE, Side.SELL, None, "99.98"),  # bid - 2c
        (ONE_TICK, Side.BUY, "100.00", "100.03"),
        (ONE_TICK, Side.SELL, "100.01", "99.98"),
        # an old limit far above the ask (the quote fell through it): halfway binds
        (WIDE, Side.BUY, "100.30", "100.20"),
        (WIDE, Side.SELL, "99.80", "99.90"),
    ],
)
def test_repeg_price_crosses_the_spread(
    q: Quote, side: Side, old: str | None, expected: str
) -> None:
    old_limit = None if old is None else D(old)
    assert repeg_price(q, side, old_limit) == D(expected)


def test_first_order_is_held_until_fourteen_seconds() -> None:
    first = POLICY.decide(state(WIDE), CONFIG)
    assert (first.kind, first.limit_price) == (DesiredKind.LIMIT, D("100.01"))
    moved = quote("100.50", "100.60")
    held = POLICY.decide(
        state(moved, t=13.9, order=limit_order("100.01"), order_age_s=13.9), CONFIG
    )
    assert held.kind is DesiredKind.KEEP


def test_one_repeg_at_fourteen_seconds_then_market_at_twenty_four() -> None:
    repeg = POLICY.decide(state(WIDE, t=14.0, order=limit_order("100.01"), order_age_s=14), CONFIG)
    assert (repeg.kind, repeg.limit_price) == (DesiredKind.LIMIT, D("100.12"))
    resend = POLICY.decide(state(WIDE, t=15.0), CONFIG)  # after the cancel: the same price
    assert (resend.kind, resend.limit_price) == (DesiredKind.LIMIT, D("100.12"))
    again = POLICY.decide(state(WIDE, t=20.0, order=limit_order("100.12"), order_age_s=4), CONFIG)
    assert again.kind is DesiredKind.KEEP
    late = state(WIDE, t=24.0, order=limit_order("100.12"), order_age_s=9)
    assert POLICY.decide(late, CONFIG).kind is DesiredKind.MARKET


def test_sell_side_stages() -> None:
    first = POLICY.decide(state(ONE_TICK, side=Side.SELL), CONFIG)
    assert first.limit_price == D("100.01")  # joins the ask on a one-tick spread
    order = limit_order("100.01", Side.SELL)
    repeg = POLICY.decide(
        state(ONE_TICK, side=Side.SELL, t=14.0, order=order, order_age_s=14), CONFIG
    )
    assert repeg.limit_price == D("99.98")
    assert POLICY.decide(state(ONE_TICK, side=Side.SELL, t=30.0), CONFIG).kind is DesiredKind.MARKET


def test_market_stage_keeps_a_live_market_order() -> None:
    live = state(WIDE, t=30.0, order=market_order(), order_age_s=2)
    assert POLICY.decide(live, CONFIG).matches(market_order())
    assert POLICY.next_decision_s(live, CONFIG) is None


def test_stale_quote_holds_until_market_time() -> None:
    stale = quote("100.00", "100.10", age_s=60)
    assert POLICY.decide(state(stale), CONFIG).kind is DesiredKind.KEEP
    assert POLICY.decide(state(stale, t=15.0), CONFIG).kind is DesiredKind.KEEP
    assert POLICY.decide(state(stale, t=25.0), CONFIG).kind is DesiredKind.MARKET
