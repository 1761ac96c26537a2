"""The smart policy's spread gate, strictly-inside pricing, far-touch take, finish and its
``next_decision_s`` schedule hook (pure: values in, desired order out)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import Quote, Side
from rebalance_executor.domain.config import ExecutionConfig, SmartSchedule
from rebalance_executor.domain.result import Reason
from rebalance_executor.executor.policies import DesiredKind, SmartPolicy
from tests.unit.policies.inputs import limit_order, market_order, quote, state

D = Decimal
POLICY = SmartPolicy()
SCHEDULE = SmartSchedule(
    start_aggressiveness=D(0),
    step_aggressiveness=D(0),
    repeg_interval_s=20.0,
    max_repegs=2,
    final_cross_fraction=D("0.8"),
    cross_buffer_bps=D(0),
    min_passive_spread_bps=D(10),
    finish_fraction=D("0.9"),
    finish_buffer_bps=D(10),
    recheck_s=4.0,
    repeg_move_spreads=D(0),  # any better touch re-pegs (the margin: test_smart_rules.py)
)
CONFIG = ExecutionConfig(smart=SCHEDULE, max_collar_bps=D(100))
WIDE = quote("100.00", "100.20")  # 20 bps: passive
TIGHT = quote("100.00", "100.02")  # 2 bps: under the gate


def _with(**fields: object) -> ExecutionConfig:
    return CONFIG.model_copy(update={"smart": SCHEDULE.model_copy(update=fields)})


# --- the spread gate ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gate", "price"),
    [
        ("19.99", "99.91"),  # spread above the gate: one tick inside the bid
        ("20", "99.91"),  # exactly at the gate: still passive
        ("20.01", "100.10"),  # just under the gate: the far touch at once
    ],
)
def test_the_gate_boundary(gate: str, price: str) -> None:
    exactly_20_bps = quote("99.90", "100.10")  # 0.20 / mid 100.00
    desired = POLICY.decide(state(exactly_20_bps), _with(min_passive_spread_bps=D(gate)))
    assert (desired.kind, desired.limit_price) == (DesiredKind.LIMIT, D(price))


def test_under_the_gate_a_sell_takes_the_bid() -> None:
    desired = POLICY.decide(state(TIGHT, side=Side.SELL), CONFIG)
    assert (desired.kind, desired.limit_price) == (DesiredKind.LIMIT, D("100.00"))


def test_gate_zero_keeps_passive_on_tight_spreads() -> None:
    desired = POLICY.decide(state(quote("100.00", "100.03")), _with(min_passive_spread_bps=D(0)))
    assert desired.limit_price == D("100.01")


# --- join a one-tick touch, improve a wider one ------------------------------------------------


@pytest.mark.parametrize(
    ("bid", "ask", "side", "price"),
    [
        ("100.00", "100.01", Side.BUY, "100.00"),  # 1 tick: nothing inside -> join the bid
        ("100.00", "100.01", Side.SELL, "100.01"),  # ... join the ask
        ("100.00", "100.02", Side.BUY, "100.01"),  # 2 ticks: improve by one
        ("100.00", "100.02", Side.SELL, "100.01"),
        ("100.00", "100.20", Side.SELL, "100.19"),  # no queue information: improve
        ("0.8500", "0.8501", Side.BUY, "0.8500"),  # sub-dollar, 1 tick: join
        ("0.8500", "0.8502", Side.BUY, "0.8501"),  # sub-dollar, 2 ticks: improve
        ("0.8500", "0.8550", Side.SELL, "0.8549"),
    ],
)
def test_passive_prices_join_or_improve_the_touch(
    bid: str, ask: str, side: Side, price: str
) -> None:
    config = _with(min_passive_spread_bps=D(0)).model_copy(update={"max_spread_bps": D(100)})
    desired = POLICY.decide(state(quote(bid, ask), side=side), config)
    assert (desired.kind, desired.limit_price) == (DesiredKind.LIMIT, D(price))


def test_a_high_aggressiveness_stays_a_tick_short_of_the_far_touch() -> None:
    config = _with(start_aggressiveness=D(1))
    assert POLICY.decide(state(WIDE), config).limit_price == D("100.19")


def test_repegs_before_the_interval_when_the_near_touch_moves_past_the_order() -> None:
    passed = quote("100.02", "100.22")  # a better bid stands ahead of our 100.01
    desired = POLICY.decide(
        state(passed, arrival=WIDE, t=5.0, order=limit_order("100.01"), order_age_s=5.0),
        CONFIG,
    )
    assert (desired.kind, desired.limit_price) == (DesiredKind.LIMIT, D("100.03"))
    sell = POLICY.decide(
        state(
            quote("99.98", "100.18"),
            side=Side.SELL,
            arrival=WIDE,
            t=5.0,
            order=limit_order("100.19", Side.SELL),
            order_age_s=5.0,
        ),
        CONFIG,
    )
    assert (sell.kind, sell.limit_price) == (DesiredKind.LIMIT, D("100.17"))


@pytest.mark.parametrize(
    "live",
    [
        WIDE,  # still one tick better than the bid
        quote("100.01", "100.21"),  # the bid came up to us: we were there first, keep our place
    ],
)
def test_an_order_at_or_better_than_the_touch_keeps_its_place(live: Quote) -> None:
    margin = _with(repeg_move_spreads=D("0.5"))  # a 1c move of a 20c spread keeps the place
    desired = POLICY.decide(
        state(live, arrival=WIDE, t=5.0, order=limit_order("100.01"), order_age_s=5.0), margin
    )
    assert desired.kind is DesiredKind.KEEP


def test_a_passive_order_the_quote_reached_is_left_to_fill() -> None:
    reached = quote("99.80", "100.01")
    desired = POLICY.decide(
        state(reached, arrival=WIDE, t=25.0, order=limit_order("100.01"), order_age_s=25.0),
        CONFIG,
    )
    assert desired.kind is DesiredKind.KEEP


# --- take and finish ---------------------------------------------------------------------------


def test_take_rests_at_the_far_touch_and_repegs_when_the_quote_moves_away() -> None:
    at_touch = POLICY.decide(state(WIDE, t=60.0), CONFIG)
    assert at_touch.limit_price == D("100.20")  # (max_repegs + 1) x 20 s, buffer 0
    moved = quote("100.05", "100.25")
    repeg = POLICY.decide(
        state(moved, arrival=WIDE, t=62.0, order=limit_order("100.20"), order_age_s=2.0), CONFIG
    )
    assert (repeg.kind, repeg.limit_price) == (DesiredKind.LIMIT, D("100.25"))
    kept = POLICY.decide(state(WIDE, t=62.0, order=limit_order("100.20"), order_age_s=2), CONFIG)
    assert kept.kind is DesiredKind.KEEP


def test_finish_walks_through_the_far_touch() -> None:
    # 0.9 of the 600 s window: a far-touch limit is replaced by one 10 bps through
    desired = POLICY.decide(
        state(WIDE, t=540.0, order=limit_order("100.20"), order_age_s=3.0), CONFIG
    )
    assert (desired.kind, desired.limit_price) == (DesiredKind.LIMIT, D("100.31"))
    kept = POLICY.decide(state(WIDE, t=545.0, order=limit_order("100.31"), order_age_s=5), CONFIG)
    assert kept.kind is DesiredKind.KEEP


def test_cross_with_market_takes_and_finishes_with_market_orders() -> None:
    config = _with(cross_with_market=True)
    assert POLICY.decide(state(TIGHT), config).kind is DesiredKind.MARKET
    assert POLICY.decide(state(WIDE, t=545.0), config).kind is DesiredKind.MARKET


def test_the_collar_stops_a_gated_take() -> None:
    # arrival mid 100.01, collar 100 bps -> buy bound 101.01: the ask ran past it
    ran = quote("101.05", "101.07")
    desired = POLICY.decide(state(ran, arrival=TIGHT), CONFIG)
    assert (desired.kind, desired.reason) == (DesiredKind.STOP, Reason.COLLAR)
    assert not desired.sends


def test_a_short_window_compresses_to_the_take_and_the_finish() -> None:
    # 20 s window: interval min(20, 0.8 x 20 / 3) = 5.33 s, take at 16 s, finish at 18 s
    assert POLICY.decide(state(WIDE, t=10.0, window_s=20.0), CONFIG).limit_price == D("100.01")
    assert POLICY.decide(state(WIDE, t=16.0, window_s=20.0), CONFIG).limit_price == D("100.20")
    assert POLICY.decide(state(WIDE, t=18.0, window_s=20.0), CONFIG).limit_price == D("100.31")


# --- next_decision_s ---------------------------------------------------------------------------


def test_next_decision_is_now_without_a_live_order_or_a_usable_quote() -> None:
    assert POLICY.next_decision_s(state(WIDE), CONFIG) == 0.0
    stale = quote("100.00", "100.20", age_s=60)
    waiting = state(stale, arrival=WIDE, t=5.0, order=limit_order("100.01"), order_age_s=5.0)
    assert POLICY.next_decision_s(waiting, CONFIG) == 0.0


def test_next_decision_is_now_when_decide_wants_a_change() -> None:
    passed = quote("100.02", "100.22")
    live = state(passed, arrival=WIDE, t=5.0, order=limit_order("100.01"), order_age_s=5.0)
    assert POLICY.next_decision_s(live, CONFIG) == 0.0


def test_next_decision_waits_for_the_interval_capped_by_the_recheck() -> None:
    live = state(WIDE, t=5.0, order=limit_order("100.01"), order_age_s=5.0)
    laddered = _with(recheck_s=30.0, step_aggressiveness=D("0.01"))
    assert POLICY.next_decision_s(live, laddered) == pytest.approx(15.0)
    # without a step a new level changes nothing: only the recheck wakes it
    assert POLICY.next_decision_s(live, _with(recheck_s=30.0)) == pytest.approx(30.0)
    assert POLICY.next_decision_s(live, CONFIG) == pytest.approx(4.0)


def test_next_decision_stops_at_the_phase_boundary() -> None:
    # second interval: order age 2 s of 20, but the take starts at 60 s
    live = state(WIDE, t=58.0, order=limit_order("100.01"), order_age_s=2.0)
    assert POLICY.next_decision_s(live, _with(recheck_s=30.0)) == pytest.approx(2.0)


def test_next_decision_rechecks_a_resting_take_and_ignores_a_market_order() -> None:
    resting = state(WIDE, t=62.0, order=limit_order("100.20"), order_age_s=2.0)
    assert POLICY.next_decision_s(resting, CONFIG) == pytest.approx(4.0)
    market = state(TIGHT, t=1.0, order=market_order(), order_age_s=1.0)
    assert POLICY.next_decision_s(market, _with(cross_with_market=True)) is None


def test_finish_fraction_before_the_final_cross_is_rejected() -> None:
    with pytest.raises(ValueError, match="finish_fraction"):
        SmartSchedule(final_cross_fraction=D("0.9"), finish_fraction=D("0.8"))


def test_shipped_defaults_join_narrow_spreads_improve_wide_ones_and_hold_on_moves() -> None:
    shipped = ExecutionConfig()
    assert shipped.smart.take_on_move_spreads == 0  # no move trigger: queue place is kept
    one_tick = quote("100.00", "100.01")
    illiquid_etf = quote("100.00", "100.25")  # 25 ticks
    assert POLICY.decide(state(one_tick), shipped).limit_price == D("100.00")  # joins
    assert POLICY.decide(state(illiquid_etf), shipped).limit_price == D("100.01")  # improves
    ran = quote("100.16", "100.41")  # the mid ran 16c: still passive, at the new touch
    assert POLICY.decide(state(ran, arrival=illiquid_etf, t=15.0), shipped).limit_price == D(
        "100.17"
    )
    # the passive phase lasts (max_repegs + 1) x 40 s, then the far touch is taken
    assert POLICY.decide(state(illiquid_etf, t=120.0), shipped).limit_price == D("100.25")


# --- leaving the passive phase when the market moves faster than its spread -------------------


@pytest.mark.parametrize(
    ("live", "kind_price"),
    [
        (quote("100.09", "100.29"), ("limit", "100.10")),  # mid +9c < 1 spread (20c): passive
        (quote("100.20", "100.40"), ("limit", "100.40")),  # mid +20c = 1 spread: take the ask
        (quote("99.80", "100.00"), ("limit", "100.00")),  # -20c, in our favour: take as well
    ],
)
def test_a_move_of_one_spread_from_arrival_ends_the_passive_phase(
    live: Quote, kind_price: tuple[str, str]
) -> None:
    config = _with(take_on_move_spreads=D(1))
    desired = POLICY.decide(state(live, arrival=WIDE, t=5.0), config)
    assert (desired.kind.value, str(desired.limit_price)) == kind_price


def test_the_move_trigger_is_off_at_zero_and_without_an_arrival_quote() -> None:
    moved = quote("100.20", "100.40")
    off = POLICY.decide(state(moved, arrival=WIDE, t=5.0), _with(take_on_move_spreads=D(0)))
    assert off.limit_price == D("100.21")  # still one tick inside
    unknown = POLICY.decide(state(moved, t=5.0), _with(take_on_move_spreads=D(1)))
    assert unknown.limit_price == D("100.21")
