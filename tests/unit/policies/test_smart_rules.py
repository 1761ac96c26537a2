"""The smart policy's decision rules on the calibrated market (SPEC §4.5, §7.2): join a one-tick
touch, join or improve a wider one by the queue and the recent volume, keep the queue place while
at the touch, and take at once when the recent trend or volatility says waiting costs more than
the spread can earn."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import Quote, Side
from rebalance_executor.domain.config import ExecutionConfig, SmartSchedule
from rebalance_executor.executor.policies import DesiredKind, PolicyInput, SmartPolicy
from rebalance_executor.executor.policies.activity import Activity
from rebalance_executor.executor.policies.smart_rules import take_now_reason, target_moved
from tests.unit.policies.inputs import limit_order, quote, state

D = Decimal
POLICY = SmartPolicy()
SCHEDULE = SmartSchedule(
    repeg_interval_s=20.0,
    max_repegs=2,
    take_on_move_spreads=D(0),
    join_max_wait_s=10.0,
    trend_z=D(1),
    take_on_trend_halfspreads=D(1),
)
CONFIG = ExecutionConfig(smart=SCHEDULE, max_collar_bps=D(100))
# 1,200 shares a minute: 10 a second take each side
BUSY = Activity(
    bars=30,
    span_min=D(29),
    volatility_bps=D(5),
    trend_bps=D(0),
    trend_se_bps=D(1),
    volume_per_min=D(1200),
)


def sized(bid: str, ask: str, bid_size: int, ask_size: int) -> Quote:
    return quote(bid, ask).model_copy(update={"bid_size": D(bid_size), "ask_size": D(ask_size)})


def with_activity(s: PolicyInput, activity: Activity | None) -> PolicyInput:
    return dataclasses.replace(s, activity=activity)


def _with(**fields: object) -> ExecutionConfig:
    return CONFIG.model_copy(update={"smart": SCHEDULE.model_copy(update=fields)})


# --- join or improve ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bid_size", "side", "price"),
    [
        (80, Side.BUY, "100.00"),  # (80 + 10) / 10 per s = 9 s <= 10 s: join the bid
        (100, Side.BUY, "100.01"),  # 11 s: improve by one tick
        (80, Side.SELL, "100.01"),  # a sell looks at the ask's queue (500: 51 s): improve
    ],
)
def test_join_when_the_queue_trades_within_the_wait_else_improve(
    bid_size: int, side: Side, price: str
) -> None:
    live = sized("100.00", "100.02", bid_size, 500)
    desired = POLICY.decide(with_activity(state(live, side=side), BUSY), CONFIG)
    assert (desired.kind, desired.limit_price) == (DesiredKind.LIMIT, D(price))


def test_a_spread_wider_than_the_join_limit_is_improved_however_short_the_queue() -> None:
    three_ticks = sized("100.00", "100.03", 0, 0)
    assert POLICY.decide(with_activity(state(three_ticks), BUSY), CONFIG).limit_price == D("100.01")
    wider = _with(join_max_spread_ticks=3)
    assert POLICY.decide(with_activity(state(three_ticks), BUSY), wider).limit_price == D("100.00")


def test_without_bars_or_with_the_rule_off_a_wide_touch_is_improved() -> None:
    live = sized("100.00", "100.05", 0, 0)
    assert POLICY.decide(state(live), CONFIG).limit_price == D("100.01")
    off = _with(join_max_wait_s=0.0)
    assert POLICY.decide(with_activity(state(live), BUSY), off).limit_price == D("100.01")
    silent = dataclasses.replace(BUSY, volume_per_min=D(0))
    assert POLICY.decide(with_activity(state(live), silent), CONFIG).limit_price == D("100.01")


def test_a_one_tick_spread_always_joins() -> None:
    live = sized("100.00", "100.01", 100_000, 100_000)  # a queue that never trades through
    buy = POLICY.decide(with_activity(state(live), BUSY), CONFIG)
    sell = POLICY.decide(with_activity(state(live, side=Side.SELL), BUSY), CONFIG)
    assert (buy.limit_price, sell.limit_price) == (D("100.00"), D("100.01"))


# --- queue position ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "target", "margin", "moved"),
    [
        ("100.00", "100.00", "0", False),  # same price: keep the queue place
        ("100.00", "100.01", "0", True),  # the touch moved a tick past the order
        ("100.01", "100.00", "0", True),  # ... or away from it
        # with a margin of half the 5c spread: 2c is a flicker, 3c a move (either way)
        ("100.00", "100.02", "0.5", False),
        ("100.00", "100.03", "0.5", True),
        ("100.03", "100.00", "0.5", True),
    ],
)
def test_target_moved(limit: str, target: str, margin: str, moved: bool) -> None:
    live = quote("100.00", "100.05")
    assert target_moved(D(limit), D(target), live, D(margin)) is moved


def test_a_one_tick_move_of_a_one_tick_touch_exceeds_the_default_margin() -> None:
    assert SCHEDULE.repeg_move_spreads == D("0.5")
    assert target_moved(D("100.00"), D("100.01"), quote("100.01", "100.02"), D("0.5"))


def test_a_wide_noisy_touch_within_the_margin_keeps_the_order() -> None:
    order = limit_order("100.01")  # improved a wide spread by one tick
    # the bid flickers up 2c on a 9c spread: target 100.04 is 3c away, under 4.5c: keep
    flicker = sized("100.03", "100.12", 1000, 1000)
    kept = POLICY.decide(
        with_activity(state(flicker, t=30.0, order=order, order_age_s=30), BUSY), CONFIG
    )
    assert kept.matches(order)
    # the bid ran 7c up on a 12c spread: target 100.08 is 7c away, over 6c: re-peg
    ran = sized("100.07", "100.19", 1000, 1000)
    moved = POLICY.decide(
        with_activity(state(ran, t=30.0, order=order, order_age_s=30), BUSY), CONFIG
    )
    assert (moved.kind, moved.limit_price) == (DesiredKind.LIMIT, D("100.08"))


# --- take at once ------------------------------------------------------------------------------


def trending(trend: str) -> Activity:
    """A trend on a quiet tape (12 shares a minute: a passive fill is a long wait)."""
    return dataclasses.replace(BUSY, trend_bps=D(trend), volume_per_min=D(12))


@pytest.mark.parametrize(
    ("trend", "side", "kind_price"),
    [
        # 10c spread on 100.05: half-spread ~5 bps. Over the 60 s passive phase a trend of
        # 7 bps/min with a 1 bps/min error costs 6 bps >= 5: take the far touch now
        ("7", Side.BUY, ("limit", "100.10")),
        ("5", Side.BUY, ("limit", "100.01")),  # 4 bps < 5: work it
        ("7", Side.SELL, ("limit", "100.09")),  # rising helps a sell: work it
        ("-7", Side.SELL, ("limit", "100.00")),  # falling: take the bid
    ],
)
def test_a_significant_trend_against_the_trade_takes_at_once(
    trend: str, side: Side, kind_price: tuple[str, str]
) -> None:
    live = sized("100.00", "100.10", 1000, 1000)
    desired = POLICY.decide(with_activity(state(live, side=side), trending(trend)), CONFIG)
    assert (desired.kind.value, str(desired.limit_price)) == kind_price


def test_the_trend_cost_shrinks_with_the_passive_time_left() -> None:
    live = sized("100.00", "100.10", 1000, 1000)
    activity = trending("7")
    # 40 s in (level 2 of 20 s intervals): 20 s left, 6 bps/min x 1/3 min = 2 bps < 5: work it
    late = with_activity(state(live, t=40.0), activity)
    assert POLICY.decide(late, CONFIG).limit_price == D("100.01")
    assert take_now_reason(late, live, SCHEDULE, 20.0) is None
    assert take_now_reason(late, live, SCHEDULE, 60.0) == "trend against the trade"


def test_a_trend_costs_nothing_when_the_fill_is_expected_at_once() -> None:
    live = sized("100.00", "100.10", 1000, 1000)
    busy = dataclasses.replace(BUSY, trend_bps=D(7))  # 10 shares at 10 a second: ~1 s wait
    assert POLICY.decide(with_activity(state(live), busy), CONFIG).limit_price == D("100.01")
    assert take_now_reason(with_activity(state(live), busy), live, SCHEDULE, 60.0) is None


def test_the_trend_rule_is_off_at_zero_and_without_bars() -> None:
    live = sized("100.00", "100.10", 1000, 1000)
    off = _with(take_on_trend_halfspreads=D(0))
    assert POLICY.decide(with_activity(state(live), trending("50")), off).limit_price == D("100.01")
    assert POLICY.decide(state(live), CONFIG).limit_price == D("100.01")


def test_volatility_over_the_spread_takes_at_once_when_asked() -> None:
    live = sized("100.00", "100.10", 1000, 1000)  # ~10 bps spread
    wild = dataclasses.replace(BUSY, volatility_bps=D(12))  # 12 bps in one 60 s phase
    on = _with(take_on_volatility_spreads=D(1))
    assert POLICY.decide(with_activity(state(live), wild), on).limit_price == D("100.10")
    calm = dataclasses.replace(BUSY, volatility_bps=D(8))
    assert POLICY.decide(with_activity(state(live), calm), on).limit_price == D("100.01")
    assert POLICY.decide(with_activity(state(live), wild), CONFIG).limit_price == D("100.01")
