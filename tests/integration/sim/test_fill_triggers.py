"""Every fill says what triggered it (taker / flow / path), and its ``at`` finds the quote it
saw in the quote path (the benchmark's timing-vs-execution split rests on both)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from alpaca.trading.enums import OrderSide

from alpaca_sim.scenario import Scenario
from alpaca_sim.testing import RunningSimulator
from rebalance_executor.bench.metrics import quote_at
from tests.fixtures.sim import SimFactory
from tests.integration.sim.helpers import (
    FLOW_ONLY,
    ideal,
    limit_order,
    market_order,
    paused,
)


@pytest.fixture
def sim(sim_factory: SimFactory) -> RunningSimulator:
    """Market physics and reservation arithmetic: the ideal broker on a cash account."""
    return sim_factory(scenario=ideal())


def test_market_and_marketable_limit_fills_are_taker(
    sim: RunningSimulator, alpaca_trading: Any, sim_keys: tuple[str, str]
) -> None:
    sim.control.freeze_market(True)
    sim.control.set_quote("SPY", Decimal("500.00"), Decimal("500.05"), Decimal(100), Decimal(100))

    alpaca_trading.submit_order(market_order("SPY", 10, OrderSide.BUY))
    alpaca_trading.submit_order(limit_order("SPY", 5, OrderSide.SELL, Decimal("499.99")))

    fills = sim.control.fills(sim_keys[0])
    assert [(f.side, f.price, f.liquidity, f.trigger) for f in fills] == [
        ("buy", Decimal("500.05"), "taker", "taker"),
        ("sell", Decimal("500.00"), "taker", "taker"),
    ]


def test_a_resting_limit_crossed_by_the_quote_is_a_path_fill_at_the_quote_it_saw(
    sim: RunningSimulator, alpaca_trading: Any, sim_keys: tuple[str, str]
) -> None:
    sim.control.freeze_market(True)
    sim.control.set_quote("AAPL", Decimal("190.00"), Decimal("190.10"), Decimal(300), Decimal(300))
    alpaca_trading.submit_order(limit_order("AAPL", 50, OrderSide.BUY, Decimal("189.90")))
    assert sim.control.fills(sim_keys[0]) == []

    crossed = sim.control.set_quote(
        "AAPL", Decimal("189.80"), Decimal("189.90"), Decimal(300), Decimal(300)
    )

    (fill,) = sim.control.fills(sim_keys[0])
    assert (fill.price, fill.liquidity, fill.trigger) == (Decimal("189.90"), "maker", "path")
    assert quote_at(sim.control.quote_path("AAPL"), fill.at) == crossed


def test_a_taker_reaching_a_resting_limit_is_a_flow_fill_also_over_http(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    scenario = Scenario(symbols={"XYZ": FLOW_ONLY})
    running, client = paused(sim_factory, sim_keys, ideal_broker=True, seed=3, scenario=scenario)
    inside = running.control.quote("XYZ").bid + Decimal("0.01")
    client.submit_order(limit_order("XYZ", 5, OrderSide.BUY, inside))

    running.control.advance_time(120)

    fills = running.control.fills(sim_keys[0])
    assert fills, "30 takers a minute: a bid one tick inside the spread is reached"
    assert {(f.liquidity, f.trigger) for f in fills} == {("maker", "flow")}
    path = running.control.quote_path("XYZ")
    seen = [quote_at(path, f.at) for f in fills]
    assert [q.at if q else None for q in seen] == [f.at for f in fills]
    served = requests.get(f"{running.base_url}/sim/fills", timeout=5).json()
    assert [f["trigger"] for f in served] == ["flow"] * len(fills)


def test_fills_during_steps_and_between_them_find_the_quote_they_matched(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = paused(sim_factory, sim_keys, ideal_broker=True, seed=21)
    limit = running.control.quote("SPY").bid
    client.submit_order(limit_order("SPY", 100, OrderSide.BUY, limit))
    running.control.advance_time(900)
    running.control.advance_time(0.5)  # between two steps: the taker sees the last step's quote
    client.submit_order(market_order("SPY", 1, OrderSide.BUY))

    path = running.control.quote_path("SPY")
    fills = running.control.fills(sim_keys[0])
    passive = fills[:-1]
    assert passive, "a 15-minute walk and its takers reach a bid placed at the start"
    assert {f.trigger for f in passive} <= {"flow", "path"}
    for fill in passive:
        seen = quote_at(path, fill.at)
        assert seen is not None
        assert seen.at == fill.at  # matched in a step, stamped with the step's time
        assert fill.price == limit
    taker = fills[-1]
    assert taker.trigger == "taker"
    seen = quote_at(path, taker.at)
    assert seen is not None
    assert seen.at < taker.at
    assert taker.price == seen.ask
