"""execute_plan on an iex-like feed (FakeBroker): quotes one-sided or stale while fills follow the
NBBO; items priced off a checked trade, or not traded, and the result says which (SPEC §4.4)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import Quote
from rebalance_executor.domain.clock import Deadline
from rebalance_executor.domain.config import ExecutionConfig, SmartSchedule
from rebalance_executor.domain.plan import Action, PlanItem, RebalancePlan
from rebalance_executor.domain.result import (
    RESULT_SCHEMA_VERSION,
    ExecutionResult,
    ItemOutcome,
    ItemResult,
    Reason,
    ReferenceSource,
)
from rebalance_executor.executor import execute_plan
from tests.fakes.broker import T0, FakeBroker, VirtualClock

D = Decimal
# The smart policy's own bars read (SMART_BARS_MINUTES, tests/unit/executor/test_activity.py) is
# off here, so every bars request these tests see is the reference fallback's.
SMART = ExecutionConfig(
    max_collar_bps=D(150), quote_max_age_s=10.0, smart=SmartSchedule(bars_minutes=0)
)


def plan(*items: tuple[str, Action, str]) -> RebalancePlan:
    return RebalancePlan(
        plan_id="iex-1",
        timestamp=T0,
        items=tuple(PlanItem(symbol=s, action=a, trade_amount=D(amt)) for s, a, amt in items),
    )


@pytest.fixture
def broker() -> FakeBroker:
    b = FakeBroker(clock=VirtualClock(), cash=D(100_000))
    b.quote("AAA", "99.99", "100.01")  # the NBBO fills follow
    b.positions = {"AAA": D(50)}
    b.trade("AAA", "100.00", age_s=2)
    b.bar("AAA", "99.90", "100.10")
    return b


def run(broker: FakeBroker, p: RebalancePlan, config: ExecutionConfig = SMART) -> ExecutionResult:
    deadline = Deadline.from_remaining(broker.clock, 130, reserve_s=8.0)
    return asyncio.run(
        execute_plan(p, broker=broker, clock=broker.clock, deadline=deadline, config=config)
    )


def only(result: ExecutionResult) -> ItemResult:
    (item,) = result.items
    return item


BUY = plan(("AAA", Action.BUY, "1000"))
SELL = plan(("AAA", Action.SELL, "-1000"))


def test_a_valid_quote_is_the_reference_and_no_trade_is_read(broker: FakeBroker) -> None:
    item = only(run(broker, BUY))
    assert item.reference is not None
    assert (item.reference.source, item.reference.price) == (ReferenceSource.QUOTE, D("100.00"))
    assert item.outcome is ItemOutcome.FILLED
    assert "get_latest_trades" not in broker.calls
    assert "get_recent_bars" not in broker.calls


@pytest.mark.parametrize("program", [BUY, SELL])
def test_one_sided_quote_trades_on_the_trade_reference(
    broker: FakeBroker, program: RebalancePlan
) -> None:
    broker.feed_quote("AAA", "0", "100.02")  # no bid shown
    result = run(broker, program)
    item = only(result)
    assert item.reference is not None
    assert (item.reference.source, item.reference.price) == (ReferenceSource.TRADE, D("100.00"))
    assert item.reference.detail is not None
    assert "one-sided quote: no bid" in item.reference.detail
    assert item.outcome is ItemOutcome.FILLED
    assert item.planned_qty == D("10")  # $1000 at the trade, not at "half the ask"
    assert item.arrival_mid == D("100.00")  # the quote has no mid: the reference stands in
    prices = [p.price for o in item.orders for p in o.limit_prices]
    assert prices  # worked with limits priced off the shown side and the reference
    assert all(D("98.50") <= p <= D("101.50") for p in prices)  # never 0, within the collar
    assert result.schema_version == RESULT_SCHEMA_VERSION == "1.2"


def test_stale_quote_and_fresh_trade_inside_the_bar(broker: FakeBroker) -> None:
    broker.feed_quote("AAA", "99.99", "100.01", age_s=30)
    item = only(run(broker, BUY))
    assert item.reference is not None
    assert item.reference.source is ReferenceSource.TRADE
    assert item.planned_qty == D("10")
    # A stale quote is never priced off while working either: nothing was sent.
    assert item.outcome is ItemOutcome.NOT_TRADED
    assert item.reason is Reason.DEADLINE
    assert broker.submits == []


def test_trade_outside_the_bar_is_refused(broker: FakeBroker) -> None:
    broker.feed_quote("AAA", "0", "100.02")
    broker.trade("AAA", "101.00", age_s=2)  # 90 bps above the bar's high
    item = only(run(broker, BUY))
    assert (item.outcome, item.reason) == (ItemOutcome.NOT_TRADED, Reason.NO_VALID_QUOTE)
    assert item.reference is not None
    assert item.reference.source is ReferenceSource.NONE
    assert item.reference.price is None
    assert item.reason_detail is not None
    assert "outside the last bar's range" in item.reason_detail
    assert broker.submits == []


def test_stale_trade_is_refused(broker: FakeBroker) -> None:
    broker.feed_quote("AAA", "100.00", "0")
    broker.trade("AAA", "100.00", age_s=11)
    item = only(run(broker, BUY))
    assert (item.outcome, item.reason) == (ItemOutcome.NOT_TRADED, Reason.NO_VALID_QUOTE)
    assert item.reason_detail is not None
    assert "latest trade is 11.0s old" in item.reason_detail
    assert "get_recent_bars" not in broker.calls  # no fresh trade: nothing to check
    assert broker.submits == []


def test_collar_applied_to_the_trade_reference(broker: FakeBroker) -> None:
    broker.feed_quote("AAA", "0", "103.00")  # the only ask shown is 3 % above the trade
    broker.fills = False  # nothing fills: the item reaches its take phase
    item = only(run(broker, BUY))
    assert item.reference is not None
    assert item.reference.source is ReferenceSource.TRADE
    prices = [p.price for o in item.orders for p in o.limit_prices]
    assert prices
    assert max(prices) <= D("101.50")  # trade 100.00 x (1 + 150 bps)
    assert item.reason is Reason.COLLAR
    assert item.reason_detail is not None
    assert "far touch 103.00" in item.reason_detail


class QuietSpell(FakeBroker):
    """The iex quote is stale (a quiet spell) until ``ends_s``, then the feed is live again."""

    ends_s: float = 12.0

    async def get_latest_quotes(self, symbols: Iterable[str]) -> Mapping[str, Quote]:
        if self.clock.monotonic() >= self.ends_s:
            self.feed_quotes.clear()
        return await super().get_latest_quotes(symbols)


def test_a_stale_quote_with_no_usable_trade_is_waited_for_then_traded() -> None:
    """A quiet spell at preflight: no fresh trade either, so the quote is re-read every 5 s
    (bounded) and the item is traded on the quote once the spell ends, not left untraded."""
    broker = QuietSpell(clock=VirtualClock(), cash=D(100_000))
    broker.quote("AAA", "99.99", "100.01")
    broker.feed_quote("AAA", "99.90", "100.10", age_s=40)
    broker.trade("AAA", "100.00", age_s=300)  # too old to stand in
    item = only(run(broker, BUY))
    assert item.reference is not None
    assert item.reference.source is ReferenceSource.QUOTE
    assert item.outcome is ItemOutcome.FILLED
    # one preflight read, then re-reads at 5 s and 10 s (stale), 15 s (the spell is over)
    assert broker.calls.count("get_latest_quotes") >= 4


def test_the_wait_for_a_reference_is_bounded() -> None:
    """A quote that stays stale: the wait ends after min(60 s, 20 % of the window) and the item
    is NO_VALID_QUOTE; nothing is sent."""
    broker = FakeBroker(clock=VirtualClock(), cash=D(100_000))
    broker.quote("AAA", "99.99", "100.01")
    broker.feed_quote("AAA", "99.90", "100.10", age_s=40)
    result = run(broker, BUY)
    assert only(result).reason is Reason.NO_VALID_QUOTE
    assert "submit_order" not in broker.calls
    # the window is 122 s: 20 % is 24.4 s, so four re-reads at 5-20 s
    assert broker.calls.count("get_latest_quotes") == 1 + 4
