"""Injected faults as the real alpaca-py client experiences them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest

from alpaca_sim.faults import FaultSpec
from alpaca_sim.testing import RunningSimulator


def _order(coid: str) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol="SPY",
        qty=1,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        limit_price=100,
        client_order_id=coid,
    )


def test_lost_response_cut_connection_leaves_a_findable_order(
    sim: RunningSimulator, alpaca_trading: Any
) -> None:
    sim.control.inject_fault(
        FaultSpec(endpoint="POST /v2/orders", kind="lost_response", count=1, cut_connection=True)
    )
    with pytest.raises(requests.exceptions.RequestException):
        alpaca_trading.submit_order(_order("lost-1"))
    found = alpaca_trading.get_order_by_client_id("lost-1")
    assert found.client_order_id == "lost-1"
    assert len(sim.control.orders()) == 1


def test_lost_response_504_is_retried_by_alpaca_py_into_a_duplicate(
    sim: RunningSimulator, alpaca_trading: Any
) -> None:
    # alpaca-py retries 504 (and 429) itself; the retry of an accepted order is a duplicate.
    alpaca_trading._retry_wait = 0
    sim.control.inject_fault(FaultSpec(endpoint="POST /v2/orders", kind="lost_response", count=1))
    with pytest.raises(APIError) as info:
        alpaca_trading.submit_order(_order("lost-2"))
    assert info.value.status_code == 422
    assert info.value.code == 40010001
    assert alpaca_trading.get_order_by_client_id("lost-2").client_order_id == "lost-2"
    assert sim.control.request_counts()["POST /v2/orders"] == 2


def test_429_burst_is_seen_by_the_client(sim: RunningSimulator, alpaca_trading: Any) -> None:
    alpaca_trading._retry_wait = 0  # keep alpaca-py's own retry loop, without its 3 s sleeps
    sim.control.inject_fault(FaultSpec(endpoint="GET /v2/account", kind="http_429", count=10))
    with pytest.raises(APIError) as info:
        alpaca_trading.get_account()
    assert info.value.status_code == 429
    assert sim.control.request_counts()["GET /v2/account"] == 4  # 1 try + 3 alpaca-py retries
    sim.control.clear_faults()
    assert alpaca_trading.get_account().cash is not None


def test_short_429_burst_is_absorbed_by_alpaca_py_retries(
    sim: RunningSimulator, alpaca_trading: Any
) -> None:
    alpaca_trading._retry_wait = 0
    sim.control.inject_fault(FaultSpec(endpoint="GET /v2/clock", kind="http_429", count=2))
    assert alpaca_trading.get_clock().is_open is True
    assert sim.control.request_counts()["GET /v2/clock"] == 3


def test_5xx_and_dropped_connection(sim: RunningSimulator, alpaca_trading: Any) -> None:
    sim.control.inject_fault(FaultSpec(endpoint="GET /v2/positions", kind="http_5xx", count=1))
    with pytest.raises(APIError) as info:
        alpaca_trading.get_all_positions()
    assert info.value.status_code == 503
    sim.control.inject_fault(FaultSpec(endpoint="POST /v2/orders", kind="drop_connection", count=1))
    with pytest.raises(requests.exceptions.RequestException):
        alpaca_trading.submit_order(_order("dropped-1"))
    # a dropped connection happens before processing: nothing was stored
    with pytest.raises(APIError):
        alpaca_trading.get_order_by_client_id("dropped-1")
    assert alpaca_trading.get_all_positions() == []


def test_every_nth_and_seeded_probability_are_deterministic(
    sim: RunningSimulator, alpaca_trading: Any
) -> None:
    sim.control.inject_fault(FaultSpec(endpoint="GET /v2/assets/*", kind="http_5xx", every_nth=3))
    outcomes = []
    for _ in range(6):
        try:
            alpaca_trading.get_asset("SPY")
            outcomes.append("ok")
        except APIError:
            outcomes.append("err")
    assert outcomes == ["ok", "ok", "err", "ok", "ok", "err"]


def test_latency_fault_delays_but_serves(sim: RunningSimulator, alpaca_trading: Any) -> None:
    sim.control.inject_fault(FaultSpec(endpoint="*", kind="latency", latency_s=0.05))
    assert alpaca_trading.get_clock().is_open is True
    assert sim.control.request_counts()["GET /v2/clock"] == 1


def test_request_counts_per_endpoint_and_minute(sim: RunningSimulator, alpaca_trading: Any) -> None:
    alpaca_trading.get_account()
    alpaca_trading.get_account()
    sim.control.set_quote("SPY", Decimal(1), Decimal(2))  # control calls are not counted
    assert sim.control.request_counts() == {"GET /v2/account": 2}
    assert sim.control.total_requests() == 2
    assert sum(sim.control.requests_by_minute().values()) == 2
