"""Golden tests of alpaca-behaviour.md row 14 (the ``trade_updates`` stream) through alpaca-py's
``TradingStream``, in simulated time: every event the engine can produce, each checked against
what REST says right after it arrives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus
from alpaca.trading.requests import ReplaceOrderRequest

from alpaca_sim.session import NEW_YORK
from alpaca_sim.testing import RunningSimulator, running_simulator
from tests.fixtures.sim import SimFactory
from tests.integration.sim.helpers import limit_order, market_order, paused
from tests.integration.sim.streams import Received, trade_updates


@pytest.fixture
def frozen(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> Iterator[tuple[RunningSimulator, Any, Received]]:
    """A paused simulator with a still SPY quote, a client and a listening TradingStream."""
    running, client = paused(sim_factory, sim_keys)
    running.control.freeze_market(True)
    running.control.set_quote("SPY", Decimal("500.00"), Decimal("500.10"))
    with trade_updates(running, *sim_keys) as updates:
        yield running, client, updates


def _event(updates: Received, event: str, order_id: object) -> Any:
    return updates.until(lambda u: u.event == event and str(u.order.id) == str(order_id))


def _resting_buy(running: RunningSimulator, client: Any, updates: Received) -> Any:
    """An acknowledged SPY buy of 10 far below the market (its ``new`` event consumed)."""
    order = client.submit_order(limit_order("SPY", 10, OrderSide.BUY, 400))
    running.control.advance_time(1)
    _event(updates, "new", order.id)
    return order


def test_row14_submission_streams_pending_new_then_new_as_rest_reports(
    frozen: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = frozen
    order = client.submit_order(limit_order("SPY", 10, OrderSide.BUY, 400))
    pending = _event(updates, "pending_new", order.id)
    assert pending.order.status == OrderStatus.PENDING_NEW
    assert client.get_order_by_id(order.id).status == OrderStatus.PENDING_NEW
    running.control.advance_time(1)
    new = _event(updates, "new", order.id)
    assert new.order.status == OrderStatus.NEW
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
    assert [u.event for u in updates.seen] == ["pending_new", "new"]


def test_row14_fills_carry_their_own_qty_and_price_and_a_cumulative_filled_qty(
    frozen: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = frozen
    order = _resting_buy(running, client, updates)
    running.control.force_fill(str(order.id), Decimal(4), Decimal("400.00"))
    partial = _event(updates, "partial_fill", order.id)
    assert (partial.qty, partial.price, partial.position_qty) == (4, 400.0, 4)
    assert Decimal(partial.order.filled_qty) == 4
    assert partial.execution_id is not None
    assert Decimal(client.get_order_by_id(order.id).filled_qty) == 4
    running.control.force_fill(str(order.id), Decimal(6), Decimal("399.50"))
    fill = _event(updates, "fill", order.id)
    assert (fill.qty, fill.price, fill.position_qty) == (6, 399.5, 10)  # this fill's, not the sum
    assert Decimal(fill.order.filled_qty) == 10  # cumulative (Alpaca-API #103)
    assert fill.order.status == OrderStatus.FILLED
    assert fill.execution_id != partial.execution_id
    assert client.get_order_by_id(order.id).status == OrderStatus.FILLED


def test_row14_cancel_streams_pending_cancel_then_canceled(
    frozen: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = frozen
    order = _resting_buy(running, client, updates)
    client.cancel_order_by_id(order.id)
    assert _event(updates, "pending_cancel", order.id).order.status == OrderStatus.PENDING_CANCEL
    running.control.advance_time(1)
    canceled = _event(updates, "canceled", order.id)
    assert canceled.order.canceled_at is not None
    assert client.get_order_by_id(order.id).status == OrderStatus.CANCELED


def test_row14_a_fill_inside_the_cancel_window_is_a_partial_fill_then_cancel_rejected(
    frozen: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = frozen
    order = _resting_buy(running, client, updates)
    client.cancel_order_by_id(order.id)
    _event(updates, "pending_cancel", order.id)
    running.control.force_fill(str(order.id), Decimal(3))
    partial = _event(updates, "partial_fill", order.id)
    assert partial.order.status == OrderStatus.PENDING_CANCEL  # still pending while it fills
    running.control.force_fill(str(order.id), Decimal(7))
    assert _event(updates, "fill", order.id).order.status == OrderStatus.FILLED
    rejected = _event(updates, "order_cancel_rejected", order.id)
    assert rejected.order.status == OrderStatus.FILLED
    running.control.advance_time(1)
    assert client.get_order_by_id(order.id).status == OrderStatus.FILLED
    assert not [u for u in updates.quiet(0.3) if u.event == "canceled"]


def test_row14_replace_streams_pending_replace_replaced_and_the_replacement(
    frozen: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = frozen
    old = _resting_buy(running, client, updates)
    new = client.replace_order_by_id(old.id, ReplaceOrderRequest(limit_price=401))
    assert _event(updates, "pending_replace", old.id).order.status == OrderStatus.PENDING_REPLACE
    assert _event(updates, "pending_new", new.id).order.replaces is not None
    running.control.advance_time(1)
    replaced = _event(updates, "replaced", old.id)
    assert str(replaced.order.replaced_by) == str(new.id)
    assert _event(updates, "new", new.id).order.status == OrderStatus.NEW
    assert client.get_order_by_id(old.id).status == OrderStatus.REPLACED


def test_row14_replacement_beaten_by_a_fill_streams_rejected_and_order_replace_rejected(
    frozen: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = frozen
    old = _resting_buy(running, client, updates)
    new = client.replace_order_by_id(old.id, ReplaceOrderRequest(limit_price=401))
    running.control.force_fill(str(old.id), Decimal(10))  # the old order fills first
    assert _event(updates, "fill", old.id).order.status == OrderStatus.FILLED
    running.control.advance_time(1)
    rejected = _event(updates, "rejected", new.id)
    assert rejected.order.failed_at is not None
    replace_rejected = _event(updates, "order_replace_rejected", old.id)
    assert replace_rejected.order.status == OrderStatus.FILLED
    assert client.get_order_by_id(new.id).status == OrderStatus.REJECTED


@pytest.mark.parametrize(
    ("status", "alpaca_status"),
    [
        ("done_for_day", OrderStatus.DONE_FOR_DAY),
        ("stopped", OrderStatus.STOPPED),
        ("suspended", OrderStatus.SUSPENDED),
        ("calculated", OrderStatus.CALCULATED),
        ("expired", OrderStatus.EXPIRED),
        ("rejected", OrderStatus.REJECTED),
    ],
)
def test_row14_rare_statuses_stream_their_own_event(
    frozen: tuple[RunningSimulator, Any, Received], status: str, alpaca_status: OrderStatus
) -> None:
    running, client, updates = frozen
    order = _resting_buy(running, client, updates)
    running.control.force_status(str(order.id), status)
    assert _event(updates, status, order.id).order.status == alpaca_status
    assert client.get_order_by_id(order.id).status == alpaca_status


def test_row14_unstreamed_statuses_send_nothing(
    frozen: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = frozen
    order = _resting_buy(running, client, updates)
    running.control.force_status(str(order.id), "held")  # not in Alpaca's event list
    assert updates.quiet(0.3) == []
    running.control.force_status(str(order.id), "new")
    assert _event(updates, "new", order.id).order.status == OrderStatus.NEW


def test_row14_day_orders_expire_at_the_close_on_the_stream(sim_keys: tuple[str, str]) -> None:
    before_close = datetime(2026, 3, 2, 15, 59, 58, tzinfo=NEW_YORK)
    with running_simulator(start=before_close) as running:
        running.control.pause_clock()
        running.control.freeze_market(True)
        client: Any = TradingClient(*sim_keys, paper=True, url_override=running.base_url)
        with trade_updates(running, *sim_keys) as updates:
            order = client.submit_order(limit_order("SPY", 1, OrderSide.BUY, 1))
            running.control.advance_time(1)
            _event(updates, "new", order.id)
            running.control.advance_time(5)
            expired = _event(updates, "expired", order.id)
            assert expired.order.expired_at is not None
            assert client.get_order_by_id(order.id).status == OrderStatus.EXPIRED


def test_row14_an_account_hears_only_its_own_orders(
    frozen: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = frozen
    other: Any = TradingClient("OTHERKEY", "OTHERSECRET", paper=True, url_override=running.base_url)
    theirs = other.submit_order(limit_order("SPY", 1, OrderSide.BUY, 400))
    mine = client.submit_order(limit_order("SPY", 1, OrderSide.BUY, 400))
    running.control.advance_time(1)
    _event(updates, "new", mine.id)
    assert {str(u.order.id) for u in updates.seen} == {str(mine.id)}
    assert str(theirs.id) not in {str(u.order.id) for u in updates.quiet(0.3)}


def test_row14_with_the_clock_running_rest_is_never_behind_the_stream(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    """Market moving at 60x, paper partial fills on: every fill event's cumulative filled_qty is
    already in REST when the event arrives, and the stream's executions are exactly the
    broker's fill records."""
    running = sim_factory(time_scale=60)
    client: Any = TradingClient(*sim_keys, paper=True, url_override=running.base_url)
    with trade_updates(running, *sim_keys) as updates:
        orders = []
        for symbol in ("SPY", "QQQ", "IWM", "TLT", "GLD"):
            orders.append(client.submit_order(market_order(symbol, 40, OrderSide.BUY)))
        ids = {str(o.id) for o in orders}
        done: set[str] = set()
        while done != ids:
            update = updates.until(lambda u: u.event in ("fill", "partial_fill"), timeout=30)
            rest = client.get_order_by_id(update.order.id)
            assert Decimal(rest.filled_qty) >= Decimal(update.order.filled_qty)
            if update.event == "fill":
                done.add(str(update.order.id))
    executions = sorted(
        (str(u.order.id), Decimal(str(u.qty)), Decimal(str(u.price)))
        for u in updates.seen
        if u.event in ("fill", "partial_fill")
    )
    records = sorted((f.order_id, f.qty, f.price) for f in running.control.fills(sim_keys[0]))
    assert executions == records


def test_row14_an_order_accepted_while_closed_streams_new_when_the_market_opens(
    frozen: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = frozen
    running.control.set_market_open(False)
    order = client.submit_order(limit_order("SPY", 1, OrderSide.BUY, 400))
    assert client.get_order_by_id(order.id).status == OrderStatus.ACCEPTED
    assert updates.quiet(0.3) == []  # "accepted" has no trade_updates event
    running.control.set_market_open(True)
    assert _event(updates, "new", order.id).order.status == OrderStatus.NEW
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
