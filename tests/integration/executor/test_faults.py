"""issue 4 "Done when", fault half: lost responses, duplicate ids, 429/5xx storms, request cost."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from alpaca_sim.faults import FaultSpec
from alpaca_sim.scenario import Scenario, SymbolSpec
from rebalance_executor.domain.broker import OrderRequest, OrderType, Side
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ExecutionStatus, ItemOutcome
from tests.fixtures.sim import SimFactory
from tests.integration.executor.harness import MARKET, CountingClock, Harness, item

SUBMIT = "POST /v2/orders"
LOOKUP = "GET /v2/orders:by_client_order_id"


@pytest.fixture
def h(sim_factory: SimFactory) -> Harness:
    return Harness.start(sim_factory(seed=11, time_scale=20))


def buy_plan(h: Harness, plan_id: str = "fault-plan"):  # type: ignore[no-untyped-def]
    return h.plan(
        item("SPY", Action.BUY, "3000"),
        item("GLD", Action.BUY, "2000"),
        item("BND", Action.BUY, "1000"),
        plan_id=plan_id,
    )


def assert_done_once(h: Harness, symbols: tuple[str, ...]) -> None:
    orders = h.orders()
    assert sorted(o["symbol"] for o in orders) == sorted(symbols)  # one order each, none doubled
    assert all(o["status"] == "filled" for o in orders)


def test_lost_response_submit_is_adopted_not_doubled(h: Harness) -> None:
    h.account("10000")
    h.sim.control.inject_fault(FaultSpec(endpoint=SUBMIT, kind="lost_response", count=2))
    result = h.run(buy_plan(h))
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason
    assert_done_once(h, ("SPY", "GLD", "BND"))
    assert h.sim.control.request_counts()[LOOKUP] >= 2


def test_cut_connection_submit_is_adopted_not_doubled(h: Harness) -> None:
    h.account("10000")
    fault = FaultSpec(endpoint=SUBMIT, kind="lost_response", cut_connection=True, count=1)
    h.sim.control.inject_fault(fault)
    result = h.run(buy_plan(h))
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason
    assert_done_once(h, ("SPY", "GLD", "BND"))


def test_duplicate_client_order_id_422_is_adopted(h: Harness) -> None:
    h.account("10000")
    # The response is lost and the first lookup wrongly says "not found": the adapter re-sends
    # under the same client order id, the broker answers 422/40010001, and the order is adopted.
    h.sim.control.inject_fault(FaultSpec(endpoint=SUBMIT, kind="lost_response", count=1))
    h.sim.control.inject_fault(FaultSpec(endpoint=LOOKUP, kind="http_5xx", status=404, count=1))
    result = h.run(buy_plan(h))
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason
    assert_done_once(h, ("SPY", "GLD", "BND"))
    assert h.sim.control.request_counts()[SUBMIT] == 4  # 3 orders + 1 refused duplicate


def test_adapter_submit_same_id_twice_returns_the_same_order(h: Harness) -> None:
    h.account("10000")
    broker = h.broker()
    request = OrderRequest(
        symbol="SPY",
        side=Side.BUY,
        qty=Decimal("1.5"),
        type=OrderType.MARKET,
        client_order_id="dup-0-0",
    )

    async def twice() -> tuple[str, str]:
        first = await broker.submit_order(request)
        second = await broker.submit_order(request)
        return first.id, second.id

    first_id, second_id = asyncio.run(twice())
    assert first_id == second_id
    assert len(h.orders()) == 1
    h.sim.control.advance_time(1)  # past the acknowledgement latency: the one order fills
    assert [o["status"] for o in h.orders()] == ["filled"]


def test_429_storm_and_5xx_burst_slow_the_run_but_lose_nothing(h: Harness) -> None:
    h.account("10000", {"TLT": "30"})
    control = h.sim.control
    control.inject_fault(FaultSpec(endpoint="*", kind="http_429", probability=0.3, count=25))
    control.inject_fault(FaultSpec(endpoint="*", kind="http_5xx", probability=0.2, count=10))
    control.inject_fault(FaultSpec(endpoint="*", kind="drop_connection", probability=0.1, count=4))
    plan = h.plan(item("TLT", Action.SELL, "-2760", "0"), *buy_plan(h).items)
    broker = h.broker(h.deadline())
    result = h.run(plan, broker=broker)
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason
    assert_done_once(h, ("TLT", "SPY", "GLD", "BND"))
    assert "TLT" not in h.positions()
    assert broker.request_count() == control.total_requests()
    assert broker.request_count() > 20  # retried through the faults


def wide_scenario(n: int) -> Scenario:
    symbols = {
        f"S{i:03d}": SymbolSpec(price=Decimal(50 + i), spread_bps=Decimal(5)) for i in range(n)
    }
    return Scenario(name="wide", cash=Decimal(10_000_000), symbols=symbols)


def run_resting(sim_factory: SimFactory, n: int) -> tuple[dict[str, int], int]:
    """N buys that rest (every symbol halted) for a fixed window.

    Returns the simulator's per-endpoint request counts and the executor's tick count (sleeps).
    """
    h = Harness.start(sim_factory(seed=3, time_scale=20, scenario=wide_scenario(25)))
    for i in range(n):
        h.sim.control.halt(f"S{i:03d}")
    config = MARKET.model_copy(update={"quote_max_age_s": 3600.0, "poll_interval_s": 2.0})
    plan = h.plan(*(item(f"S{i:03d}", Action.BUY, "1000") for i in range(n)), plan_id=f"lin-{n}")
    clock = CountingClock(h.sim.clock)
    result = h.run(plan, config, window_s=20.0, clock=clock)
    assert all(i.outcome is ItemOutcome.NOT_FILLED for i in result.items)
    assert all(o["status"] == "canceled" for o in h.orders())
    assert result.tca is not None
    assert result.tca.requests_total == h.sim.control.total_requests()
    return h.sim.control.request_counts(), clock.sleeps


def test_request_count_is_linear_in_items_with_constant_polling_cost(
    sim_factory: SimFactory,
) -> None:
    runs = {n: run_resting(sim_factory, n) for n in (5, 10, 20)}
    for n, (counts, ticks) in runs.items():
        # Per tick exactly one orders listing for all N items (plus one for reconciliation and
        # one of the account's open orders, whose reservations the buy budget subtracts), and no
        # per-tick quotes for the market policy (preflight + buy re-size only).
        assert counts["GET /v2/orders"] == ticks + 2, (n, counts, ticks)
        assert counts["GET /v2/stocks/quotes/latest"] == 2
    # Everything else (assets, submits, cancels, account reads) is exactly a + b*N.
    rest = {
        n: sum(c.values()) - c["GET /v2/orders"] - c["GET /v2/stocks/quotes/latest"]
        for n, (c, _) in runs.items()
    }
    b = (rest[10] - rest[5]) / 5
    assert rest[20] - rest[10] == b * 10
    # per item: one submit, one cancel (assets come from one listing above 3 symbols)
    assert b == 2
