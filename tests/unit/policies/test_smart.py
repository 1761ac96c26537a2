"""The smart policy's decisions, tick by tick (pure: values in, desired order out)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import OrderType, Side
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy, SmartSchedule
from rebalance_executor.domain.result import Reason
from rebalance_executor.executor.policies import DesiredKind, SmartPolicy, policy_for
from rebalance_executor.executor.policies.smart import schedule_interval
from tests.unit.policies.inputs import limit_order, quote, state

D = Decimal
POLICY = SmartPolicy()
CONFIG = ExecutionConfig(
    smart=SmartSchedule(
        start_aggressiveness=D("0.2"),
        step_aggressiveness=D("0.2"),
        repeg_interval_s=10.0,
        max_repegs=3,
        final_cross_fraction=D("0.8"),
        cross_buffer_bps=D(10),
        min_passive_spread_bps=D(0),  # the ladder itself, on any spread
        take_on_move_spreads=D(0),  # however far the quote moves
    ),
    max_collar_bps=D(100),
)
Q = quote("100.00", "100.10")


def test_selected_by_setting() -> None:
    assert isinstance(policy_for(ExecutionPolicy.SMART), SmartPolicy)
    assert POLICY.uses_live_quotes


def test_starts_passive_inside_the_spread() -> None:
    buy = POLICY.decide(state(Q), CONFIG)
    sell = POLICY.decide(state(Q, side=Side.SELL), CONFIG)
    assert (buy.kind, buy.limit_price) == (DesiredKind.LIMIT, D("100.02"))
    assert (sell.kind, sell.limit_price) == (DesiredKind.LIMIT, D("100.08"))


def test_holds_the_live_order_until_the_interval_has_passed() -> None:
    order = limit_order("100.02")
    held = POLICY.decide(state(Q, t=9.0, order=order, order_age_s=9.0), CONFIG)
    assert held.kind is DesiredKind.KEEP
    assert held.matches(order)


@pytest.mark.parametrize(("t", "price"), [(10.0, "100.04"), (20.0, "100.06"), (35.0, "100.08")])
def test_aggressiveness_rises_each_interval(t: float, price: str) -> None:
    desired = POLICY.decide(state(Q, t=t, order=limit_order("100.02"), order_age_s=10.0), CONFIG)
    assert (desired.kind, desired.limit_price) == (DesiredKind.LIMIT, D(price))
    assert not desired.matches(limit_order("100.02"))


def test_repegs_to_the_live_quote() -> None:
    moved = quote("100.50", "100.60")
    desired = POLICY.decide(
        state(moved, arrival=Q, t=10.0, order=limit_order("100.02"), order_age_s=10.0), CONFIG
    )
    assert desired.limit_price == D("100.54")


def test_crosses_after_max_repegs_through_the_far_touch() -> None:
    # (max_repegs + 1) x interval = 40 s, before 0.8 of the 600 s window
    desired = POLICY.decide(state(Q, t=40.0, order=limit_order("100.08"), order_age_s=5), CONFIG)
    assert (desired.kind, desired.limit_price) == (DesiredKind.LIMIT, D("100.21"))


def test_a_marketable_live_order_is_not_chased() -> None:
    desired = POLICY.decide(state(Q, t=45.0, order=limit_order("100.21"), order_age_s=1), CONFIG)
    assert desired.kind is DesiredKind.KEEP


def test_cross_can_be_a_market_order() -> None:
    config = CONFIG.model_copy(
        update={"smart": CONFIG.smart.model_copy(update={"cross_with_market": True})}
    )
    desired = POLICY.decide(state(Q, t=40.0), config)
    assert desired.kind is DesiredKind.MARKET
    assert not desired.matches(limit_order("100.21"))


def test_schedule_compresses_to_a_short_window() -> None:
    assert schedule_interval(CONFIG.smart, 600.0) == 10.0
    assert schedule_interval(CONFIG.smart, 20.0) == pytest.approx(4.0)  # 0.8 x 20 / 4
    assert schedule_interval(CONFIG.smart, None) == 10.0
    # 20 s window: crossing at 16 s, i.e. 0.8 of the window, with time left to execute
    desired = POLICY.decide(state(Q, t=16.0, window_s=20.0), CONFIG)
    assert desired.limit_price == D("100.21")
    early = POLICY.decide(
        state(Q, t=4.0, window_s=20.0, order=limit_order("1"), order_age_s=4), CONFIG
    )
    assert early.limit_price == D("100.04")


def test_final_cross_fraction_applies_even_with_long_intervals() -> None:
    config = CONFIG.model_copy(
        update={"smart": CONFIG.smart.model_copy(update={"final_cross_fraction": D("0.5")})}
    )
    desired = POLICY.decide(state(Q, t=31.0, window_s=60.0), config)
    assert desired.limit_price == D("100.21")


def test_stale_or_wide_quote_holds_and_sends_nothing() -> None:
    stale = quote("100.00", "100.10", age_s=60)
    wide = quote("100.00", "103.00")
    for bad in (stale, wide, None):
        desired = POLICY.decide(state(bad, arrival=Q, t=40.0), CONFIG)
        assert desired.kind is DesiredKind.KEEP
        assert not desired.sends


def test_prices_are_clamped_to_the_collar() -> None:
    # arrival mid 100.05, collar 100 bps -> buy bound 101.05; the far touch is inside it but the
    # buffered cross price (101.20 x 1.001) is not
    live = quote("101.00", "101.05")
    desired = POLICY.decide(state(live, arrival=Q, t=40.0), CONFIG)
    assert desired.limit_price == D("101.05")


@pytest.mark.parametrize(
    ("side", "live", "t"),
    [
        (Side.BUY, quote("101.10", "101.20"), 0.0),  # bid above the bound while passive
        (Side.BUY, quote("101.00", "101.10"), 40.0),  # ask above the bound when crossing
        (Side.SELL, quote("98.80", "98.90"), 0.0),  # ask below the sell bound (99.05)
        (Side.SELL, quote("99.00", "99.10"), 40.0),  # bid below it when crossing
    ],
)
def test_a_market_that_ran_through_the_collar_stops_the_item(
    side: Side, live: object, t: float
) -> None:
    desired = POLICY.decide(state(live, side=side, arrival=Q, t=t), CONFIG)  # type: ignore[arg-type]
    assert desired.kind is DesiredKind.STOP
    assert desired.reason is Reason.COLLAR
    assert desired.detail is not None
    assert "collar" in desired.detail
    assert not desired.sends


def test_sub_dollar_prices_use_the_hundredth_cent_tick() -> None:
    penny = quote("0.8500", "0.8550", symbol="PENY")
    config = CONFIG.model_copy(update={"max_spread_bps": D(100)})
    desired = POLICY.decide(state(penny), config)
    assert desired.limit_price == D("0.8510")
    assert desired.kind is DesiredKind.LIMIT
    assert limit_order("0.8510").type is OrderType.LIMIT
