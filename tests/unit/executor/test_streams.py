"""The executor following a stream (SPEC §4.6): fills and statuses from updates, listings only to
confirm or as the fallback; duplicated, reordered, bogus or missing updates never change what the
result reports (it equals the broker's fills) and never over-fill."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import BrokerOrder, OrderStatus, OrderType, Side
from rebalance_executor.domain.clock import Deadline, SystemClock, nap
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ExecutionResult, ExecutionStatus, ItemOutcome
from rebalance_executor.executor import execute_plan
from rebalance_executor.executor.ids import client_order_id, plan_key
from rebalance_executor.executor.lifecycle import Slot
from rebalance_executor.executor.state import ItemState
from rebalance_executor.executor.streaming import StreamFeed
from rebalance_executor.executor.tracker import Tracker
from tests.fakes.broker import T0, FakeBroker, VirtualClock
from tests.fakes.stream import MirrorStream, bogus_fill
from tests.unit.executor.helpers import plan, stocked_broker

SMART = ExecutionConfig(policy=ExecutionPolicy.SMART)
PLAN = plan(("BBB", Action.SELL, "-1000"), ("AAA", Action.BUY, "2000"))


def _run(
    broker: FakeBroker, stream: MirrorStream | None, config: ExecutionConfig = SMART
) -> ExecutionResult:
    deadline = Deadline.from_remaining(broker.clock, 130, reserve_s=8.0)
    return asyncio.run(
        execute_plan(
            PLAN,
            broker=broker,
            clock=broker.clock,
            deadline=deadline,
            config=config,
            streams=stream,
        )
    )


def _partial_broker() -> FakeBroker:
    broker = stocked_broker("100000")
    broker.partial = Decimal("0.4")  # each tick fills up to 40 % of an order: several updates
    return broker


def _assert_result_is_the_brokers(result: ExecutionResult, broker: FakeBroker) -> None:
    for item in result.items:
        side = Side.BUY if item.action is Action.BUY else Side.SELL
        assert item.filled_qty == broker.filled(item.symbol, side)
        assert item.outcome is not ItemOutcome.OVERFILLED
        assert broker.filled(item.symbol, side) <= item.planned_qty
    assert not broker.live()


def test_a_healthy_stream_replaces_the_working_listings() -> None:
    polled, streamed = _partial_broker(), _partial_broker()
    stream = MirrorStream(streamed)

    without = _run(polled, None)
    with_streams = _run(streamed, stream)

    assert without.status is with_streams.status is ExecutionStatus.SUCCEEDED
    assert [i.filled_qty for i in with_streams.items] == [i.filled_qty for i in without.items]
    assert streamed.calls.count("list_orders") < polled.calls.count("list_orders")
    assert stream.opened == {"AAA", "BBB"}
    assert stream.closed
    report = with_streams.streams
    assert report is not None
    assert report.updates > 0
    assert report.down_ticks == 0
    assert without.streams is None
    _assert_result_is_the_brokers(with_streams, streamed)


@pytest.mark.parametrize("fault", ["duplicate", "reorder"])
def test_duplicated_and_reordered_updates_never_double_count(fault: str) -> None:
    broker = _partial_broker()
    stream = MirrorStream(broker, duplicate=fault == "duplicate", reorder=fault == "reorder")

    result = _run(broker, stream)

    assert result.status is ExecutionStatus.SUCCEEDED
    assert stream.delivered > 0
    _assert_result_is_the_brokers(result, broker)


def test_a_silent_stream_falls_back_to_listings() -> None:
    broker = _partial_broker()
    stream = MirrorStream(broker, silent=True)

    result = _run(broker, stream)

    assert result.status is ExecutionStatus.SUCCEEDED
    assert result.streams is not None
    assert result.streams.silent > 0
    assert result.streams.confirm_listings + result.streams.down_ticks > 0
    _assert_result_is_the_brokers(result, broker)


def test_a_stream_that_is_down_is_polled_around() -> None:
    broker = _partial_broker()
    stream = MirrorStream(broker, down=True)

    result = _run(broker, stream)

    assert result.status is ExecutionStatus.SUCCEEDED
    assert result.streams is not None
    assert result.streams.down_ticks > 0
    _assert_result_is_the_brokers(result, broker)


def test_quotes_come_from_the_stream_while_it_is_up() -> None:
    up, down = stocked_broker("100000"), stocked_broker("100000")
    up.fills = down.fills = False  # orders rest: smart re-pegs on its quotes all window long

    on_stream = _run(up, MirrorStream(up))
    polled = _run(down, MirrorStream(down, down=True))

    assert on_stream.streams is not None
    assert polled.streams is not None
    assert on_stream.streams.quote_updates > 0
    assert on_stream.streams.quote_fallbacks == 0
    assert polled.streams.quote_fallbacks > 0
    assert on_stream.streams.verify_listings > 0  # the resting book is checked now and then
    assert up.calls.count("get_latest_quotes") < down.calls.count("get_latest_quotes")
    assert up.calls.count("list_orders") < down.calls.count("list_orders")
    _assert_result_is_the_brokers(on_stream, up)


def test_an_update_for_an_unknown_plan_order_is_confirmed_not_trusted() -> None:
    broker = _partial_broker()
    coid = client_order_id(plan_key(PLAN.plan_id), 1, 7)
    stream = MirrorStream(broker, bogus=bogus_fill(coid, "AAA", "50", T0))

    result = _run(broker, stream)

    assert result.streams is not None
    assert result.streams.unknown_orders == 1
    assert result.streams.confirm_listings >= 1
    assert all(o.broker_order_id != "bogus-1" for i in result.items for o in i.orders)
    _assert_result_is_the_brokers(result, broker)


def test_a_reconnection_is_a_gap_confirmed_by_a_listing() -> None:
    broker = _partial_broker()
    stream = MirrorStream(broker, reconnect_at_drain=2)

    result = _run(broker, stream)

    assert result.streams is not None
    assert result.streams.gaps == 1
    assert result.streams.confirm_listings >= 1
    _assert_result_is_the_brokers(result, broker)


def _order(filled: str, status: OrderStatus) -> BrokerOrder:
    return BrokerOrder(
        id="o1",
        client_order_id="k-0-0",
        symbol="AAA",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal(10),
        filled_qty=Decimal(filled),
        limit_price=Decimal(100),
        status=status,
        submitted_at=T0,
    )


def test_an_older_view_never_lowers_an_orders_fills() -> None:
    item = PLAN.items[1]
    state = ItemState(
        index=1,
        item=item,
        side=Side.BUY,
        fractionable=True,
        planned_qty=Decimal(10),
        target_qty=Decimal(10),
        ref_price=Decimal(100),
        quote=None,
    )
    state.record(_order("6", OrderStatus.PARTIALLY_FILLED))
    state.record(_order("2", OrderStatus.PARTIALLY_FILLED))  # reordered, older
    state.record(_order("6", OrderStatus.PARTIALLY_FILLED))  # duplicated
    assert state.filled_qty == Decimal(6)
    state.record(_order("7", OrderStatus.CANCELED))
    state.record(_order("6", OrderStatus.PENDING_CANCEL))  # live view after the terminal one
    assert state.filled_qty == Decimal(7)
    assert not state.live_orders


def test_nap_ends_early_on_news_only_with_a_clock_that_can_wake() -> None:
    async def scenario() -> tuple[float, float]:
        news = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, news.set)
        t0 = time.monotonic()
        await nap(SystemClock(), 5.0, news)
        woke = time.monotonic() - t0
        virtual = VirtualClock()
        await nap(virtual, 5.0, news)  # already set, but a virtual clock cannot wake
        return woke, virtual.monotonic()

    woke, slept = asyncio.run(scenario())
    assert woke < 1.0
    assert slept == 5.0


def _resting(broker: FakeBroker, stream: MirrorStream) -> tuple[StreamFeed, Tracker, ItemState]:
    """A feed over ``stream`` and one item whose limit order rests at ``broker``."""
    order = BrokerOrder(
        id="o-rest",
        client_order_id=client_order_id(plan_key(PLAN.plan_id), 1, 0),
        symbol="AAA",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal(10),
        limit_price=Decimal("99.00"),
        status=OrderStatus.NEW,
        submitted_at=T0 + timedelta(seconds=1),
    )
    broker.orders[order.id] = order
    state = ItemState(
        index=1,
        item=PLAN.items[1],
        side=Side.BUY,
        fractionable=True,
        planned_qty=Decimal(10),
        target_qty=Decimal(10),
        ref_price=Decimal(100),
        quote=None,
        orders={order.id: order},
        slot=Slot.WORKING,
    )
    tracker = Tracker(broker, plan_key(PLAN.plan_id), T0 - timedelta(minutes=10))
    tracker.register([state])
    feed = StreamFeed(stream, broker.clock, lag_s=2.0, silence_s=10.0)
    return feed, tracker, state


def test_a_stream_that_dies_while_orders_rest_is_caught_by_a_verifying_listing() -> None:
    broker = stocked_broker()
    broker.fills = False
    stream = MirrorStream(broker, silent=True)
    asyncio.run(stream.open({"AAA"}))
    feed, tracker, state = _resting(broker, stream)
    broker.fills = True  # the order fills; the silent stream says nothing

    asyncio.run(feed.follow(tracker, [state], lambda s: False))
    assert state.filled_qty == 0  # not yet due: no listing
    broker.clock.t += 10.0
    asyncio.run(feed.follow(tracker, [state], lambda s: False))

    assert state.filled_qty == Decimal(10)
    assert feed.counts.verify_listings == 1
    assert feed.counts.silent == 1
    assert not feed.trading_ok()  # polled around until the stream speaks again


def test_a_verifying_listing_that_agrees_backs_off() -> None:
    broker = stocked_broker()
    broker.fills = False
    stream = MirrorStream(broker)
    asyncio.run(stream.open({"AAA"}))
    feed, tracker, state = _resting(broker, stream)

    broker.clock.t += 10.0
    asyncio.run(feed.follow(tracker, [state], lambda s: False))
    assert feed.counts.verify_listings == 1
    assert feed.next_check_s([state], lambda s: False) == 20.0
    assert feed.trading_ok()
    assert feed.counts.silent == 0
