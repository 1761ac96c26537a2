"""When each policy next wants to decide (``next_decision_s``), and that the schedule agrees with
``decide``: just before the announced time the policy keeps its order, at it the policy wants a
change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalance_executor.domain.config import ExecutionConfig, SmartSchedule
from rebalance_executor.executor.policies import (
    AnchorPolicy,
    DesiredKind,
    MarketPolicy,
    OrderPolicy,
    SmartPolicy,
)
from tests.unit.policies.inputs import limit_order, market_order, quote, state

D = Decimal
Q = quote("100.00", "100.10")
MOVED = quote("100.20", "100.30")  # the market moved: a re-peg lands on a different price
# Gate 0: worked passively even on this 10 bps spread; a long recheck so the ladder decides.
SMART_CONFIG = ExecutionConfig(
    smart=SmartSchedule(
        repeg_interval_s=10.0,
        max_repegs=3,
        final_cross_fraction=D("0.8"),
        min_passive_spread_bps=D(0),
        recheck_s=60.0,
        step_aggressiveness=D("0.1"),  # each level re-prices: the interval matters
    )
)
EPS = 1e-6


def test_market_decides_until_a_market_order_is_live() -> None:
    policy, config = MarketPolicy(), ExecutionConfig()
    assert policy.next_decision_s(state(None), config) == 0.0
    assert policy.next_decision_s(state(None, order=market_order()), config) is None
    # an adopted limit is not what the policy wants: decide now (it gets replaced)
    assert policy.next_decision_s(state(None, order=limit_order("99.00")), config) == 0.0


@pytest.mark.parametrize(
    ("t", "age", "expected"),
    [
        (3.0, 3.0, 11.0),  # first order rests until the 14 s re-peg
        (16.0, 1.0, 8.0),  # re-pegged at 15 s: rests until the 24 s market stage
        (16.0, 5.0, 0.0),  # placed before the re-peg stage: re-peg now
        (25.0, 9.0, 0.0),  # a limit in the market stage: send the market order now
    ],
)
def test_anchor_schedules_its_fourteen_and_twenty_four_second_marks(
    t: float, age: float, expected: float
) -> None:
    policy, config = AnchorPolicy(), ExecutionConfig()
    got = policy.next_decision_s(
        state(Q, t=t, order=limit_order("100.01"), order_age_s=age), config
    )
    assert got == pytest.approx(expected)


def test_anchor_without_a_live_order_or_with_a_market_one() -> None:
    policy, config = AnchorPolicy(), ExecutionConfig()
    assert policy.next_decision_s(state(Q, t=3.0), config) == 0.0
    market = state(Q, t=25.0, order=market_order(), order_age_s=1.0)
    assert policy.next_decision_s(market, config) is None


@pytest.mark.parametrize(
    ("t", "age", "expected"),
    [
        (3.0, 3.0, 7.0),  # age reaches the 10 s re-peg interval first
        (35.0, 2.0, 5.0),  # the cross point (4 x 10 s) comes first
        # overdue, but the re-peg lands on the same price: next look at the recheck (60 s) or
        # the cross point (40 s), not on every tick
        (12.0, 12.0, 28.0),
    ],
)
def test_smart_waits_for_the_repeg_or_the_cross(t: float, age: float, expected: float) -> None:
    policy = SmartPolicy()
    got = policy.next_decision_s(
        state(Q, t=t, order=limit_order("100.01"), order_age_s=age), SMART_CONFIG
    )
    assert got == pytest.approx(expected)


def test_smart_decides_now_without_an_order_or_a_usable_quote() -> None:
    policy = SmartPolicy()
    order = limit_order("100.01")
    assert policy.next_decision_s(state(Q, t=3.0), SMART_CONFIG) == 0.0
    stale = quote("100.00", "100.10", age_s=3600)
    assert policy.next_decision_s(state(stale, t=3, order=order, order_age_s=3), SMART_CONFIG) == 0
    assert policy.next_decision_s(state(None, t=3, order=order, order_age_s=3), SMART_CONFIG) == 0


def test_smart_crossing_rechecks_a_marketable_limit_and_replaces_a_passive_one() -> None:
    policy = SmartPolicy()
    marketable = state(Q, t=45.0, order=limit_order("100.20"), order_age_s=1.0)
    passive = state(Q, t=45.0, order=limit_order("100.01"), order_age_s=1.0)
    assert policy.next_decision_s(marketable, SMART_CONFIG) == SMART_CONFIG.smart.recheck_s
    assert policy.next_decision_s(passive, SMART_CONFIG) == 0.0
    with_market = SMART_CONFIG.model_copy(
        update={"smart": SMART_CONFIG.smart.model_copy(update={"cross_with_market": True})}
    )
    live_market = state(Q, t=45.0, order=market_order(), order_age_s=1.0)
    assert policy.next_decision_s(live_market, with_market) is None


@pytest.mark.parametrize(
    ("policy", "config", "t", "age"),
    [
        (AnchorPolicy(), ExecutionConfig(), 3.0, 3.0),
        (AnchorPolicy(), ExecutionConfig(), 16.0, 1.0),
    ],
)
def test_anchor_keeps_the_order_until_the_announced_time_and_changes_it_then(
    policy: OrderPolicy, config: ExecutionConfig, t: float, age: float
) -> None:
    order = limit_order("100.01")
    delay = policy.next_decision_s(state(Q, t=t, order=order, order_age_s=age), config)
    assert delay is not None
    assert delay > 0

    def at(dt: float) -> DesiredKind:
        later = state(MOVED, arrival=Q, t=t + dt, order=order, order_age_s=age + dt)
        desired = policy.decide(later, config)
        return DesiredKind.KEEP if desired.matches(order) else desired.kind

    assert at(delay - EPS) is DesiredKind.KEEP
    assert at(delay) is not DesiredKind.KEEP
