"""One named regression per failure reproduced on a broker that follows Alpaca's rules (issue 15;
alpaca-behaviour.md rows 3-8). Each runs the real executor against the FakeBroker, with a small
adversary saying what lands at the broker between the executor's requests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import (
    BrokerOrder,
    BrokerRequestError,
    DuplicateClientOrderIdError,
    InsufficientBuyingPowerError,
    InsufficientQtyError,
    OrderRefusedError,
    OrderRequest,
    OrderStatus,
    OrderType,
    PatternDayTraderError,
    Side,
    WashTradeError,
)
from rebalance_executor.domain.clock import Deadline
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy, SmartSchedule
from rebalance_executor.domain.plan import Action, PlanItem, RebalancePlan
from rebalance_executor.domain.result import ExecutionResult, ExecutionStatus, ItemOutcome, Reason
from rebalance_executor.executor import execute_plan
from rebalance_executor.executor.ids import client_order_id, plan_key
from rebalance_executor.executor.working import MAX_LOOKUP_MISSES
from tests.fakes.adversary import Book
from tests.fakes.broker import T0, FakeBroker, VirtualClock

CONFIG = ExecutionConfig(
    policy=ExecutionPolicy.SMART,
    smart=SmartSchedule(repeg_interval_s=5.0, max_repegs=3),
    poll_interval_s=1.0,
    max_poll_interval_s=2.0,
)


def buy_plan(qty: int, plan_id: str = "regression") -> RebalancePlan:
    """One whole-share BUY of ``qty`` shares of WHB (mid $30)."""
    item = PlanItem(symbol="WHB", action=Action.BUY, trade_amount=Decimal(30 * qty))
    return RebalancePlan(plan_id=plan_id, timestamp=T0, items=(item,))


@dataclass
class RecordingBroker(FakeBroker):
    """Records the order id of every cancel request."""

    cancelled: list[str] = field(default_factory=list)

    async def cancel_order(self, order_id: str) -> None:
        self.cancelled.append(order_id)
        await super().cancel_order(order_id)


def make_broker(adversary: object | None = None, **kwargs: object) -> RecordingBroker:
    broker = RecordingBroker(clock=VirtualClock(), adversary=adversary, **kwargs)  # type: ignore[arg-type]
    broker.quote("WHB", "29.95", "30.05")
    broker.non_fractionable.add("WHB")
    return broker


def run(broker: FakeBroker, plan: RebalancePlan, window_s: float = 60.0) -> ExecutionResult:
    deadline = Deadline.from_remaining(broker.clock, window_s + 20, reserve_s=20.0)
    return asyncio.run(
        execute_plan(plan, broker=broker, clock=broker.clock, deadline=deadline, config=CONFIG)
    )


def first(book: Book, *, status: OrderStatus | None = None) -> BrokerOrder | None:
    return next((o for o in book.live() if status is None or o.status is status), None)


@dataclass
class FillOnReprice:
    """Nothing fills until the executor re-prices; then ``fraction`` of the resting order fills
    just before the cancel lands (between the listing that showed nothing filled and the
    re-price); the cancel is pending for ``window`` listings, ``per_listing`` shares filling at
    each; after that every live order fills completely at the next listing."""

    fraction: Decimal = Decimal(0)
    window: int = 0
    per_listing: Decimal = Decimal(0)
    repriced: bool = False
    listings_in_window: int = 0

    def between(self, book: Book, call: str) -> None:
        if call == "cancel_order" and not self.repriced:
            self.repriced = True
            order = first(book)
            if order is not None and order.qty is not None:
                book.fill(order.id, (order.qty * self.fraction).to_integral_value())
        if call != "list_orders" or not self.repriced:
            return
        pending = first(book, status=OrderStatus.PENDING_CANCEL)
        if pending is not None and self.listings_in_window < self.window:
            self.listings_in_window += 1
            book.fill(pending.id, self.per_listing)
            return
        book.conclude_cancels()
        for order in book.live():
            book.fill(order.id, (order.qty or Decimal(0)) - order.filled_qty)

    def lose(self, call: str) -> bool:
        return False


def test_fill_between_listing_and_reprice_cannot_overfill_150_vs_100() -> None:
    """Was: the re-peg PATCHed the resting 100 (last listing: nothing filled) while 50 filled;
    the replacement carried the original 100 and 150 were bought. Now the re-price cancels,
    waits for the order to be final and sends the remainder: 100 in all."""
    broker = make_broker(FillOnReprice(fraction=Decimal("0.5")), cancel_window=True, partial=0)
    result = run(broker, buy_plan(100))
    assert broker.filled("WHB") == 100
    assert [r.qty for r in broker.submits] == [100, 50]
    assert result.items[0].outcome is ItemOutcome.FILLED
    assert result.status is ExecutionStatus.SUCCEEDED


def test_fills_in_the_pending_cancel_window_count_before_the_remainder_70_vs_50() -> None:
    """Was: 20 shares filled while the old order sat in pending_cancel/pending_replace and a
    replacement for the original 50 filled too (70 against 50). Now nothing is sent until a
    listing shows the old order terminal, and the remainder is sized from its final fills."""
    adversary = FillOnReprice(window=2, per_listing=Decimal(10))
    broker = make_broker(adversary, cancel_window=True, partial=0)
    result = run(broker, buy_plan(50))
    assert broker.filled("WHB") == 50
    assert [r.qty for r in broker.submits] == [50, 30]
    assert adversary.listings_in_window == 2
    # the second order went out only after the first one's cancel was final
    kinds = [kind for kind, _ in broker.events]
    assert kinds.index("cancel") < len(kinds) - 1 - kinds[::-1].index("submit")
    assert result.items[0].filled_qty == 50


@dataclass
class GhostDuplicateBroker(RecordingBroker):
    """Answers every submit with "client_order_id must be unique", yet no look-up finds it."""

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        self._hit("submit_order", can_fail=False)
        self.submits.append(request)
        raise DuplicateClientOrderIdError("client_order_id must be unique", 422, 40010001)

    async def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        self._hit("get_order_by_client_id")
        return None


def test_duplicate_answer_that_no_lookup_finds_is_bounded_not_a_storm() -> None:
    """Was: 121 submits and 242 look-ups in 120 s for one item. Now the id is looked up a
    bounded number of times, never re-sent, and the item stops with a reason."""
    broker = GhostDuplicateBroker(clock=VirtualClock())
    broker.quote("WHB", "29.95", "30.05")
    result = run(broker, buy_plan(100), window_s=120.0)
    assert broker.calls.count("submit_order") == 1
    assert broker.calls.count("get_order_by_client_id") == MAX_LOOKUP_MISSES
    item = result.items[0]
    assert item.reason is Reason.SUBMIT_UNRESOLVED
    assert result.status is ExecutionStatus.FAILED


@dataclass
class RefusingBroker(RecordingBroker):
    refusal: BrokerRequestError | None = None

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        self._hit("submit_order", can_fail=False)
        assert self.refusal is not None
        raise self.refusal


@pytest.mark.parametrize(
    ("refusal", "reason"),
    [
        (OrderRefusedError("asset WHB is not active", 422, 40010001), Reason.BROKER_REJECTED),
        (OrderRefusedError("sub-penny limit price", 422, 42210000), Reason.BROKER_REJECTED),
        (
            InsufficientBuyingPowerError("insufficient buying power", 403, 40310000),
            Reason.BUYING_POWER,
        ),
        (
            InsufficientQtyError("insufficient qty available", 403, 40310000),
            Reason.INSUFFICIENT_QTY,
        ),
        (WashTradeError("potential wash trade detected", 403, 40310000), Reason.WASH_TRADE),
        (PatternDayTraderError("pattern day trader", 403, 40310100), Reason.PATTERN_DAY_TRADER),
    ],
)
def test_a_refusal_stops_the_item_with_its_own_reason_and_is_never_resent(
    refusal: BrokerRequestError, reason: Reason
) -> None:
    broker = RefusingBroker(clock=VirtualClock(), refusal=refusal)
    broker.quote("WHB", "29.95", "30.05")
    result = run(broker, buy_plan(100), window_s=120.0)
    assert broker.calls.count("submit_order") == 1
    assert "get_order_by_client_id" not in broker.calls
    assert result.items[0].reason is reason
    assert str(refusal) in (result.items[0].reason_detail or "")


@dataclass
class FillsInPendingReplace:
    """An earlier attempt (an executor that still PATCHed) left a replace in flight: the first
    listing shows the old order in pending_replace (20 more shares just filled on it) next to
    its live replacement; afterwards every listing concludes replaces and cancels and fills
    what is still live."""

    listings: int = 0

    def between(self, book: Book, call: str) -> None:
        if call != "list_orders":
            return
        self.listings += 1
        old = first(book, status=OrderStatus.PENDING_REPLACE)
        if self.listings == 1 and old is not None:
            book.fill(old.id, Decimal(20))
            return
        book.conclude_replaces()
        book.conclude_cancels()
        for order in book.live():
            book.fill(order.id, (order.qty or Decimal(0)) - order.filled_qty)

    def lose(self, call: str) -> bool:
        return False


def test_an_order_in_pending_replace_never_makes_the_executor_cancel_its_new_order() -> None:
    """Was: a listing showing the old order in pending_replace next to its replacement read as
    "two live orders", and the executor cancelled its own replacement and sent more. Now both
    (left by an earlier attempt) are cancelled and awaited; the one new order, sized from their
    final fills, is never cancelled, and the total is the plan."""
    plan = buy_plan(100, plan_id="replaced-earlier")
    broker = make_broker(FillsInPendingReplace(), cancel_window=True, partial=0)
    stale = OrderRequest(
        symbol="WHB",
        side=Side.BUY,
        qty=Decimal(100),
        type=OrderType.LIMIT,
        limit_price=Decimal("29.96"),
        client_order_id=client_order_id(plan_key(plan.plan_id), 0, 0),
    )
    original = asyncio.run(broker.submit_order(stale))
    broker.fill(original.id, Decimal(30))
    replacement = broker.replace_externally(original.id, Decimal("29.98"))
    assert replacement.qty == 100  # the original qty, as Alpaca-API #165 reports
    result = run(broker, plan)
    assert original.id in broker.cancelled  # listed live (pending_replace): cancelled as stale
    assert replacement.id in broker.cancelled
    new_orders = [o.id for o in broker.orders.values() if o.id not in {original.id, replacement.id}]
    assert len(new_orders) == 1
    assert new_orders[0] not in broker.cancelled
    # sized from the old order's final 50 (30 + 20 in pending_replace); the replacement, which
    # carried the original 100, was cancelled before anything new was sent
    assert broker.orders[original.id].filled_qty == 50
    assert broker.orders[replacement.id].filled_qty == 0
    # the item's size was fixed by its first order (100): the new order is the 50 still missing
    assert broker.orders[new_orders[0]].qty == 50
    assert broker.filled("WHB") == 100
    assert result.items[0].filled_qty == 100


@dataclass
class ReleaseAtListing:
    """Leaves the order in its rare status for ``hold`` listings, then releases it and fills it."""

    hold: int
    listings: int = 0
    seen: list[OrderStatus] = field(default_factory=list)

    def between(self, book: Book, call: str) -> None:
        if call != "list_orders" or not book.live():
            return  # only listings that show the order count (reconciliation, budget: none)
        self.listings += 1
        self.seen.extend(o.status for o in book.live())
        if self.listings <= self.hold:
            return
        for order in book.live():
            if order.status is not OrderStatus.STOPPED:
                book.set_status(order.id, OrderStatus.NEW)
            book.fill(order.id, (order.qty or Decimal(0)) - order.filled_qty)

    def lose(self, call: str) -> bool:
        return False


@pytest.mark.parametrize(
    "status",
    [
        OrderStatus.HELD,
        OrderStatus.PENDING_REVIEW,
        OrderStatus.ACCEPTED_FOR_BIDDING,
        OrderStatus.SUSPENDED,
        OrderStatus.UNKNOWN,
    ],
)
def test_held_pending_review_and_unknown_orders_are_waited_on_not_a_crash(
    status: OrderStatus,
) -> None:
    """Was: a crash on held/pending_review. Now the order is live: the item waits for it and
    sends nothing else, and once it fills the item is done."""
    adversary = ReleaseAtListing(hold=3)
    broker = make_broker(adversary, ack_status=status, partial=0)
    result = run(broker, buy_plan(100))
    assert adversary.seen[:3] == [status] * 3
    assert broker.calls.count("submit_order") == 1
    assert broker.filled("WHB") == 100
    assert result.status is ExecutionStatus.SUCCEEDED


@dataclass
class StopAfterPartial:
    """At the first listing that shows the order, 40 shares fill and it is ``stopped`` (a fill
    is guaranteed); the guaranteed fill lands ``hold`` listings later."""

    hold: int
    listings_stopped: int = 0

    def between(self, book: Book, call: str) -> None:
        order = first(book)
        if call != "list_orders" or order is None:
            return
        if self.listings_stopped == 0:
            book.fill(order.id, Decimal(40))
            book.set_status(order.id, OrderStatus.STOPPED)
        elif self.listings_stopped >= self.hold:
            book.fill(order.id, (order.qty or Decimal(0)) - order.filled_qty)
        self.listings_stopped += 1

    def lose(self, call: str) -> bool:
        return False


def test_a_stopped_order_is_live_and_its_remainder_is_never_resent() -> None:
    """Was: ``stopped`` read as terminal, so the remainder (60) was sent again and both
    filled. Now the executor waits (its re-price cancel cannot take a stopped order away)."""
    adversary = StopAfterPartial(hold=30)
    broker = make_broker(adversary, partial=0)
    result = run(broker, buy_plan(100))
    assert adversary.listings_stopped > 30  # listed stopped, then filled
    assert broker.cancelled  # the policy re-priced while the order was stopped
    assert broker.calls.count("submit_order") == 1
    assert broker.filled("WHB") == 100
    assert result.items[0].outcome is ItemOutcome.FILLED


def test_an_order_with_the_items_id_but_another_side_is_not_adopted() -> None:
    """Was: an order found by client order id was adopted whatever it was. Now one with the
    wrong side (here a sell carrying the plan's id) stops the item with a reason and is left
    alone."""
    plan = buy_plan(100, plan_id="reused-id")
    broker = make_broker()
    foreign = asyncio.run(
        broker.submit_order(
            OrderRequest(
                symbol="WHB",
                side=Side.SELL,
                qty=Decimal(5),
                type=OrderType.LIMIT,
                limit_price=Decimal("40"),
                client_order_id=client_order_id(plan_key(plan.plan_id), 0, 0),
            )
        )
    )
    result = run(broker, plan)
    item = result.items[0]
    assert item.reason is Reason.ADOPTION_REFUSED
    assert "side sell is not buy" in (item.reason_detail or "")
    assert foreign.id not in broker.cancelled
    assert broker.calls.count("submit_order") == 1  # only the foreign order's own submit


def test_an_order_found_by_id_but_submitted_before_the_plan_is_not_adopted() -> None:
    """The duplicate answer's look-up finds an order from long before the plan (a reused
    plan id): not adopted, the item stops, nothing is re-sent and the old order is left alone."""
    plan = buy_plan(100, plan_id="yesterdays-id")
    broker = make_broker()
    broker.clock.t = -86_400.0  # yesterday
    old = asyncio.run(
        broker.submit_order(
            OrderRequest(
                symbol="WHB",
                side=Side.BUY,
                qty=Decimal(100),
                type=OrderType.LIMIT,
                limit_price=Decimal("29.00"),
                client_order_id=client_order_id(plan_key(plan.plan_id), 0, 0),
            )
        )
    )
    broker.orders[old.id] = old.model_copy(update={"status": OrderStatus.FILLED})
    broker.clock.t = 0.0
    assert old.submitted_at is not None
    assert old.submitted_at < T0 - timedelta(hours=1)
    result = run(broker, plan)
    item = result.items[0]
    assert item.reason is Reason.ADOPTION_REFUSED
    assert "before the plan" in (item.reason_detail or "")
    assert item.filled_qty == 0
    assert broker.calls.count("submit_order") == 2  # yesterday's, and today's refused duplicate
