"""One-sided quotes while working (the iex feed): the shown side and the reference, within the
collar; never a price off a side that is 0, never a stale quote (docs/executor.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rebalance_executor.domain.broker import Quote, Side
from rebalance_executor.domain.config import ExecutionConfig, SmartSchedule
from rebalance_executor.domain.result import Reason
from rebalance_executor.executor.policies import DesiredKind, SmartPolicy
from rebalance_executor.executor.policies.pricing import (
    arrival_price,
    is_marketable,
    working_quote,
)
from tests.unit.policies.inputs import quote, state

D = Decimal
POLICY = SmartPolicy()
# passive one tick inside; take AT the far touch from 60 s (3 x 20 s) of a 600 s window
CONFIG = ExecutionConfig(
    smart=SmartSchedule(
        min_passive_spread_bps=D(0), take_on_move_spreads=D(0), repeg_interval_s=20.0
    ),
    max_collar_bps=D(100),
    quote_max_age_s=10.0,
)
TAKE_T = 70.0


def test_a_usable_quote_is_worked_as_it_is() -> None:
    q = quote("100.00", "100.10")
    assert working_quote(state(q, reference="100.05"), CONFIG) == q


@pytest.mark.parametrize(
    ("bid", "ask", "reference", "completed"),
    [
        ("0", "100.10", "100.00", ("100.00", "100.10")),  # missing bid -> the reference
        ("0", "100.10", "100.20", ("100.09", "100.10")),  # ... but one tick under the ask
        ("99.90", "0", "100.00", ("99.90", "100.00")),  # missing ask -> the reference
        ("99.90", "0", "99.80", ("99.90", "99.91")),  # ... but one tick over the bid
    ],
)
def test_the_missing_side_is_completed_with_the_reference(
    bid: str, ask: str, reference: str, completed: tuple[str, str]
) -> None:
    seen = working_quote(state(quote(bid, ask), reference=reference), CONFIG)
    assert seen is not None
    assert (seen.bid, seen.ask) == (D(completed[0]), D(completed[1]))


@pytest.mark.parametrize(
    ("live", "reference"),
    [
        (quote("0", "100.10", age_s=11), "100.00"),  # stale: never priced off
        (quote("0", "0"), "100.00"),  # nothing shown
        (quote("0", "100.10"), None),  # no reference to complete it with
        (quote("100.00", "103.00"), "100.00"),  # two-sided but too wide: held as before
        (None, "100.00"),
    ],
)
def test_unusable_quotes_are_held(live: Quote | None, reference: str | None) -> None:
    s = state(live, reference=reference)
    assert working_quote(s, CONFIG) is None
    assert POLICY.decide(s, CONFIG).kind is DesiredKind.KEEP
    assert POLICY.next_decision_s(s, CONFIG) == 0.0


def test_buy_on_an_ask_only_quote_rests_between_reference_and_ask_then_takes_the_ask() -> None:
    live = quote("0", "100.10")
    passive = POLICY.decide(state(live, reference="100.00"), CONFIG)
    take = POLICY.decide(state(live, reference="100.00", t=TAKE_T), CONFIG)
    assert (passive.kind, passive.limit_price) == (DesiredKind.LIMIT, D("100.01"))
    assert (take.kind, take.limit_price) == (DesiredKind.LIMIT, D("100.10"))


def test_never_pegs_to_a_side_that_is_zero() -> None:
    # A sell's far touch is the bid: absent here, so the take prices at the reference.
    sell = POLICY.decide(
        state(quote("0", "100.10"), side=Side.SELL, reference="100.00", t=TAKE_T), CONFIG
    )
    # A buy's far touch is the ask: absent here, so the take prices at the reference.
    buy = POLICY.decide(state(quote("99.90", "0"), reference="100.00", t=TAKE_T), CONFIG)
    assert (sell.kind, sell.limit_price) == (DesiredKind.LIMIT, D("100.00"))
    assert (buy.kind, buy.limit_price) == (DesiredKind.LIMIT, D("100.00"))


def test_the_collar_around_the_reference_bounds_a_one_sided_quote() -> None:
    live = quote("0", "103.00")  # the only ask is 3 % above the reference (collar 1 %)
    passive = POLICY.decide(state(live, reference="100.00"), CONFIG)
    take = POLICY.decide(state(live, reference="100.00", t=TAKE_T), CONFIG)
    assert passive.limit_price is not None
    assert passive.limit_price <= D("101.00")
    assert take.kind is DesiredKind.STOP
    assert take.reason is Reason.COLLAR


def test_a_one_sided_arrival_quote_anchors_the_collar_on_the_reference() -> None:
    arrival = quote("0", "100.10")  # its "mid" would be 50.05
    moved = quote("100.40", "100.42")
    ran = quote("101.50", "101.52")
    s = state(moved, arrival=arrival, reference="100.00")
    assert arrival_price(s) == D("100.00")
    assert POLICY.decide(s, CONFIG).kind is DesiredKind.LIMIT
    stopped = POLICY.decide(state(ran, arrival=arrival, reference="100.00"), CONFIG)
    assert (stopped.kind, stopped.reason) == (DesiredKind.STOP, Reason.COLLAR)
    two_sided = state(moved, arrival=quote("100.00", "100.02"), reference="99.00")
    assert arrival_price(two_sided) == D("100.01")


def test_a_missing_far_side_is_never_marketable() -> None:
    assert not is_marketable(D("100.00"), quote("99.90", "0"), Side.BUY)
    assert not is_marketable(D("99.00"), quote("0", "100.10"), Side.SELL)
    assert is_marketable(D("100.10"), quote("0", "100.10"), Side.BUY)


@settings(max_examples=300, deadline=None)
@given(
    shown=st.integers(min_value=5_000, max_value=20_000),  # the shown side, in cents
    offset_bps=st.integers(min_value=-400, max_value=400),  # reference vs the shown side
    missing_bid=st.booleans(),
    side=st.sampled_from([Side.BUY, Side.SELL]),
    t=st.sampled_from([0.0, 30.0, TAKE_T, 550.0]),  # passive, re-peg, take, finish
)
def test_one_sided_prices_are_positive_and_inside_the_collar(
    shown: int, offset_bps: int, missing_bid: bool, side: Side, t: float
) -> None:
    price = D(shown) / 100
    reference = (price * (1 + D(offset_bps) / 10_000)).quantize(D("0.01"))
    live = quote("0", str(price)) if missing_bid else quote(str(price), "0")
    desired = POLICY.decide(state(live, side=side, reference=str(reference), t=t), CONFIG)
    if desired.kind is DesiredKind.STOP:
        assert desired.reason is Reason.COLLAR
        return
    assert desired.kind is DesiredKind.LIMIT
    assert desired.limit_price is not None
    assert desired.limit_price > 0
    # the collar (100 bps around the reference) bounds the adverse direction only
    if side is Side.BUY:
        assert desired.limit_price <= reference * D("1.01")
    else:
        assert desired.limit_price >= reference * D("0.99")
