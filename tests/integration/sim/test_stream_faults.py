"""Stream faults (``FaultSpec`` kinds ``stream_*`` and ``control.disconnect_streams``) as
alpaca-py's ``TradingStream`` / ``StockDataStream`` experience them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide

from alpaca_sim.faults import FaultSpec
from alpaca_sim.testing import RunningSimulator
from tests.fixtures.sim import SimFactory
from tests.integration.sim.helpers import limit_order, paused
from tests.integration.sim.streams import Received, market_data, trade_updates, wait_until

TRADING = "WS /stream"


@pytest.fixture
def listening(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> Iterator[tuple[RunningSimulator, Any, Received]]:
    """A paused, frozen simulator, a client and a listening TradingStream."""
    running, client = paused(sim_factory, sim_keys)
    running.control.freeze_market(True)
    with trade_updates(running, *sim_keys) as updates:
        yield running, client, updates


def _buy(client: Any) -> Any:
    """A resting SPY buy far below the market (it streams pending_new, then new on ack)."""
    return client.submit_order(limit_order("SPY", 1, OrderSide.BUY, 400))


def _listener(running: RunningSimulator, key: str) -> int:
    """The number of the connection now listening for ``key`` (0: none)."""
    found = [c.number for c in running.control.stream_clients(key) if c.listening]
    return found[-1] if found else 0


def _events(updates: Received, seconds: float = 0.5) -> list[tuple[str, str]]:
    return [(u.event, str(u.order.id)) for u in updates.quiet(seconds)]


def test_disconnect_fault_loses_the_frame_and_alpaca_py_reconnects(
    listening: tuple[RunningSimulator, Any, Received], sim_keys: tuple[str, str]
) -> None:
    running, client, updates = listening
    before = _listener(running, sim_keys[0])
    running.control.inject_fault(FaultSpec(endpoint=TRADING, kind="stream_disconnect", count=1))
    order = _buy(client)
    wait_until(lambda: _listener(running, sim_keys[0]) > before, "alpaca-py to reconnect")
    running.control.advance_time(1)
    new = updates.until(lambda u: u.event == "new")
    assert str(new.order.id) == str(order.id)
    assert [u.event for u in updates.seen] == ["new"]  # pending_new went down with the socket


def test_control_disconnect_closes_now_and_alpaca_py_reconnects(
    listening: tuple[RunningSimulator, Any, Received], sim_keys: tuple[str, str]
) -> None:
    running, client, updates = listening
    before = _listener(running, sim_keys[0])
    assert running.control.disconnect_streams(sim_keys[0]) == 1
    wait_until(lambda: _listener(running, sim_keys[0]) > before, "alpaca-py to reconnect")
    order = _buy(client)
    assert str(updates.until(lambda u: u.event == "pending_new").order.id) == str(order.id)


def test_silent_stream_keeps_the_socket_and_sends_nothing(
    listening: tuple[RunningSimulator, Any, Received], sim_keys: tuple[str, str]
) -> None:
    running, client, updates = listening
    before = _listener(running, sim_keys[0])
    running.control.inject_fault(FaultSpec(endpoint=TRADING, kind="stream_silent", count=1))
    order = _buy(client)
    running.control.advance_time(1)
    assert _events(updates, 1.0) == []
    assert _listener(running, sim_keys[0]) == before  # same connection, still open
    assert client.get_order_by_id(order.id).status.value == "new"  # REST knows


def test_duplicate_fault_sends_the_event_twice(
    listening: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = listening
    order = _buy(client)
    updates.until(lambda u: u.event == "pending_new")
    running.control.inject_fault(FaultSpec(endpoint=TRADING, kind="stream_duplicate", count=1))
    running.control.advance_time(1)
    assert _events(updates) == [("new", str(order.id)), ("new", str(order.id))]


def test_reorder_fault_sends_an_event_after_the_next_one(
    listening: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = listening
    running.control.inject_fault(FaultSpec(endpoint=TRADING, kind="stream_reorder", count=1))
    order = _buy(client)
    running.control.advance_time(1)
    assert _events(updates) == [("new", str(order.id)), ("pending_new", str(order.id))]


def test_unknown_order_fault_sends_an_event_rest_has_never_heard_of(
    listening: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = listening
    running.control.inject_fault(FaultSpec(endpoint=TRADING, kind="stream_unknown_order", count=1))
    order = _buy(client)
    phantom, real = updates.next(), updates.next()
    assert str(real.order.id) == str(order.id)
    assert str(phantom.order.id) != str(order.id)
    with pytest.raises(APIError) as info:
        client.get_order_by_id(phantom.order.id)
    assert info.value.status_code == 404


def test_lag_fault_delays_the_event(listening: tuple[RunningSimulator, Any, Received]) -> None:
    running, client, updates = listening
    running.control.inject_fault(
        FaultSpec(endpoint=TRADING, kind="stream_lag", latency_s=1.0, count=1)
    )
    sent = time.monotonic()
    _buy(client)
    updates.next()
    assert time.monotonic() - sent >= 0.9  # 1 simulated second at time_scale 1
    sent = time.monotonic()
    running.control.advance_time(1)
    updates.next()
    assert time.monotonic() - sent < 0.9  # the fault fired once


def test_a_fault_for_another_account_leaves_this_stream_alone(
    listening: tuple[RunningSimulator, Any, Received],
) -> None:
    running, client, updates = listening
    running.control.inject_fault(
        FaultSpec(endpoint=TRADING, kind="stream_silent", api_key="SOMEONE-ELSE")
    )
    order = _buy(client)
    assert _events(updates) == [("pending_new", str(order.id))]


def test_data_stream_disconnect_is_survived_by_alpaca_py(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, _ = paused(sim_factory, sim_keys)
    with market_data(running, *sim_keys, quotes=("SPY",)) as (_, received):
        (before,) = running.control.stream_clients(sim_keys[0])
        running.control.inject_fault(
            FaultSpec(endpoint="WS /v2/sip", kind="stream_disconnect", count=1)
        )
        running.control.advance_time(1)  # this step's quote is lost with the socket
        wait_until(
            lambda: any(
                c.number > before.number and c.quotes
                for c in running.control.stream_clients(sim_keys[0])
            ),
            "alpaca-py to reconnect and resubscribe",
        )
        running.control.set_quote("SPY", Decimal("501.00"), Decimal("501.05"))
        quote = received.next()
        assert (quote.bid_price, quote.ask_price) == (501.0, 501.05)
        assert received.seen == [quote]
