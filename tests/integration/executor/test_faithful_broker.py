"""The executor against behaviours only the faithful broker has (alpaca-behaviour.md).

Each test states the safe outcome (each failed on the executor before issue 15). A watcher
thread plays the broker's side of a race (a fill inside a pending window, a rare status right
after submission) through the control API; the scenario widens the window so the watcher always
wins it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest

from alpaca_sim.scenario import BrokerSpec, default_scenario
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ExecutionStatus, Reason
from tests.fixtures.sim import SimFactory
from tests.integration.executor.harness import MARKET, Harness, item

SMART = ExecutionConfig(policy=ExecutionPolicy.SMART)
OrderAction = Callable[[Harness, dict[str, Any]], None]


def _harness(factory: SimFactory, **broker: Any) -> Harness:
    scenario = default_scenario().model_copy(update={"broker": BrokerSpec(**broker)})
    return Harness.start(factory(seed=3, scenario=scenario, time_scale=20.0))


@contextmanager
def _on_status(h: Harness, status: str, action: OrderAction) -> Iterator[None]:
    """Apply ``action`` once to every order of the account seen in ``status``."""
    stop = threading.Event()
    seen: set[str] = set()

    def watch() -> None:
        while not stop.wait(0.002):
            for order in h.sim.control.orders(h.key):
                if order["status"] == status and order["id"] not in seen:
                    seen.add(order["id"])
                    action(h, order)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _fill_part(h: Harness, order: dict[str, Any]) -> None:
    h.sim.control.force_fill(order["id"], (Decimal(order["qty"]) * Decimal("0.4")).quantize(1))


def test_row03_05_repricing_never_patches_and_fills_in_the_cancel_window_never_overfill(
    sim_factory: SimFactory,
) -> None:
    """Re-pricing is cancel + new order, never a PATCH (row 3's replace semantics cannot
    over-fill what is never sent); 40 % of each cancelled order fills inside its 20 s
    pending_cancel window (row 5), and the remainder is sized from those final fills."""
    h = _harness(sim_factory, pending_ms=20_000, partial_fill_probability=0.0)
    h.account("100000")
    h.sim.control.freeze_market(True)  # nothing fills by itself: the smart policy re-prices
    with _on_status(h, "pending_cancel", _fill_part):
        result = h.run(h.plan(item("NOFR", Action.BUY, "4500")), SMART, window_s=600)
    orders = h.sim.control.orders(h.key)
    filled = sum((f.qty for f in h.sim.control.fills(h.key)), Decimal(0))
    assert h.sim.control.request_counts().get("PATCH /v2/orders/{order_id}", 0) == 0
    assert sum(1 for o in orders if o["canceled_at"] and Decimal(o["filled_qty"]) > 0) >= 1
    assert filled <= result.items[0].planned_qty
    assert result.items[0].filled_qty == filled


@pytest.mark.parametrize("status", ["held", "pending_review"])
def test_row06_rare_statuses_are_handled_as_live(sim_factory: SimFactory, status: str) -> None:
    h = _harness(sim_factory, ack_latency_ms=20_000)
    h.account("20000")

    def force(harness: Harness, order: dict[str, Any]) -> None:
        harness.sim.control.force_status(order["id"], status)

    with _on_status(h, "pending_new", force):
        result = h.run(h.plan(item("SPY", Action.BUY, "1000")), MARKET, window_s=60)
    assert result.status is not ExecutionStatus.SUCCEEDED
    assert all(o["status"] in ("canceled", "filled") for o in h.sim.control.orders(h.key))


def test_row09_a_wash_trade_refusal_is_not_reported_as_buying_power(
    sim_factory: SimFactory,
) -> None:
    h = _harness(sim_factory)
    h.account("20000", {"SPY": "10"})
    client = TradingClient(h.key, "secret", paper=True, url_override=h.sim.base_url)
    client.submit_order(
        LimitOrderRequest(
            symbol="SPY", qty=5, side=OrderSide.SELL, time_in_force=TimeInForce.DAY, limit_price=900
        )
    )
    result = h.run(h.plan(item("SPY", Action.BUY, "1000")), MARKET, window_s=60)
    assert h.sim.control.fills(h.key) == []
    assert result.items[0].reason is not Reason.BUYING_POWER
