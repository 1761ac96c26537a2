"""The fill model, seen through the real alpaca-py client."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from alpaca.trading.enums import OrderSide, OrderStatus

from alpaca_sim.scenario import Scenario, SymbolSpec
from alpaca_sim.testing import RunningSimulator
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


def test_market_buy_fills_at_ask_and_moves_cash_position_and_buying_power(
    sim: RunningSimulator, alpaca_trading: Any, sim_keys: tuple[str, str]
) -> None:
    sim.control.freeze_market(True)
    sim.control.set_quote("SPY", Decimal("500.00"), Decimal("500.05"), Decimal(100), Decimal(100))

    order = alpaca_trading.submit_order(market_order("SPY", 10, OrderSide.BUY))

    assert order.status == OrderStatus.FILLED
    assert Decimal(order.filled_qty) == 10
    assert Decimal(order.filled_avg_price) == Decimal("500.05")
    account = alpaca_trading.get_account()
    assert Decimal(account.cash) == Decimal(100_000) - Decimal("5000.50")
    assert Decimal(account.buying_power) == Decimal(account.cash)
    position = alpaca_trading.get_open_position("SPY")
    assert Decimal(position.qty) == 10
    assert Decimal(position.avg_entry_price) == Decimal("500.05")
    fills = sim.control.fills(sim_keys[0])
    assert [(f.qty, f.price, f.liquidity) for f in fills] == [
        (Decimal(10), Decimal("500.05"), "taker")
    ]


def test_market_order_beyond_displayed_size_walks_the_book(
    sim: RunningSimulator, alpaca_trading: Any, sim_keys: tuple[str, str]
) -> None:
    sim.control.freeze_market(True)
    sim.control.set_quote("TLT", Decimal("92.00"), Decimal("92.04"), Decimal(100), Decimal(100))
    depth = sim.engine.scenario.symbols["TLT"].depth

    order = alpaca_trading.submit_order(market_order("TLT", float(150 + depth), OrderSide.BUY))

    # levels beyond the touch: half the 4-tick spread apart, ``depth`` shares each
    fills = sim.control.fills(sim_keys[0])
    assert [(f.qty, f.price) for f in fills] == [
        (Decimal(100), Decimal("92.04")),
        (depth, Decimal("92.06")),
        (Decimal(50), Decimal("92.08")),
    ]
    assert Decimal(order.filled_qty) == 150 + depth


def test_resting_limit_waits_for_the_quote_then_fills_partially(
    sim: RunningSimulator, alpaca_trading: Any
) -> None:
    sim.control.freeze_market(True)
    sim.control.set_quote("AAPL", Decimal("190.00"), Decimal("190.10"), Decimal(300), Decimal(300))
    order = alpaca_trading.submit_order(limit_order("AAPL", 50, OrderSide.BUY, 189.90))
    assert order.status == OrderStatus.NEW

    sim.control.set_quote("AAPL", Decimal("189.95"), Decimal("190.00"), Decimal(300), Decimal(300))
    assert Decimal(alpaca_trading.get_order_by_id(order.id).filled_qty) == 0

    sim.control.set_quote("AAPL", Decimal("189.80"), Decimal("189.90"), Decimal(300), Decimal(20))
    partial = alpaca_trading.get_order_by_id(order.id)
    assert partial.status == OrderStatus.PARTIALLY_FILLED
    assert Decimal(partial.filled_qty) == 20
    assert Decimal(partial.filled_avg_price) == Decimal("189.90")

    sim.control.set_quote("AAPL", Decimal("189.70"), Decimal("189.80"), Decimal(300), Decimal(300))
    done = alpaca_trading.get_order_by_id(order.id)
    assert done.status == OrderStatus.FILLED
    assert Decimal(done.filled_avg_price) == Decimal("189.90")


def test_marketable_limit_fills_up_to_its_limit_and_rests_the_rest(
    sim: RunningSimulator, alpaca_trading: Any
) -> None:
    sim.control.freeze_market(True)
    sim.control.set_quote("MSFT", Decimal("410.00"), Decimal("410.10"), Decimal(100), Decimal(40))
    order = alpaca_trading.submit_order(limit_order("MSFT", 100, OrderSide.BUY, 410.10))
    assert order.status == OrderStatus.PARTIALLY_FILLED
    assert Decimal(order.filled_qty) == 40
    assert Decimal(order.filled_avg_price) == Decimal("410.10")


def test_open_buy_reserves_buying_power_and_sell_releases_only_on_fill(
    sim: RunningSimulator, alpaca_trading: Any, sim_keys: tuple[str, str]
) -> None:
    sim.control.freeze_market(True)
    sim.control.set_quote("TLT", Decimal("92.00"), Decimal("92.02"))
    sim.control.set_account(sim_keys[0], cash=Decimal(10_000), positions={"TLT": Decimal(50)})

    alpaca_trading.submit_order(limit_order("TLT", 10, OrderSide.BUY, 91.00))
    assert Decimal(alpaca_trading.get_account().buying_power) == Decimal(10_000) - Decimal(910)

    sell = alpaca_trading.submit_order(limit_order("TLT", 50, OrderSide.SELL, 95.00))
    assert Decimal(alpaca_trading.get_account().buying_power) == Decimal(9_090)
    sim.control.set_quote("TLT", Decimal("95.00"), Decimal("95.02"), Decimal(500), Decimal(500))
    assert alpaca_trading.get_order_by_id(sell.id).status == OrderStatus.FILLED
    assert Decimal(alpaca_trading.get_account().cash) == Decimal(10_000) + 50 * Decimal(95)


def test_passive_order_inside_spread_fills_only_through_takers(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    scenario = Scenario(symbols={"XYZ": FLOW_ONLY})
    running, client = paused(sim_factory, sim_keys, ideal_broker=True, seed=3, scenario=scenario)
    quote = running.control.quote("XYZ")
    inside = float(quote.bid + Decimal("0.01"))
    order = client.submit_order(limit_order("XYZ", 5, OrderSide.BUY, inside))
    assert order.status == OrderStatus.NEW

    running.control.advance_time(120)

    fills = running.control.fills(sim_keys[0])
    assert fills, "30 takers a minute: a bid one tick inside the spread is reached"
    assert all(f.liquidity == "maker" and f.price == Decimal(str(inside)) for f in fills)
    assert {f.trigger for f in fills} == {"flow"}  # volatility 0: the quote never crossed it
    assert all(q.ask > Decimal(str(inside)) for q in running.control.quote_path("XYZ"))


def test_passive_order_without_takers_or_volatility_never_fills(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    spec = SymbolSpec.model_validate(
        {"price": 100, "spread_ticks": 20, "volatility": 0, "trades_per_min": 0}
    )
    running, client = paused(
        sim_factory, sim_keys, ideal_broker=True, scenario=Scenario(symbols={"XYZ": spec})
    )
    bid = running.control.quote("XYZ").bid
    order = client.submit_order(limit_order("XYZ", 5, OrderSide.BUY, float(bid + Decimal("0.05"))))
    running.control.advance_time(3600)
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
    assert running.control.fills() == []


def _run_session(factory: SimFactory, keys: tuple[str, str], seed: int) -> tuple[Any, Any]:
    running, client = paused(factory, keys, seed=seed, ideal_broker=True)
    for symbol in ("SPY", "AAPL", "NVDA"):
        bid = running.control.quote(symbol).bid
        client.submit_order(limit_order(symbol, 20, OrderSide.BUY, float(bid)))
        client.submit_order(market_order(symbol, 1, OrderSide.BUY))
    running.control.advance_time(1800)
    path = [(q.bid, q.ask, q.bid_size, q.ask_size) for q in running.control.quote_path("SPY")]
    fills = [(f.order_id, f.symbol, f.qty, f.price, f.at) for f in running.control.fills()]
    return path, fills


def test_same_seed_same_quotes_and_fills(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    path_a, fills_a = _run_session(sim_factory, sim_keys, seed=11)
    path_b, fills_b = _run_session(sim_factory, sim_keys, seed=11)
    path_c, _ = _run_session(sim_factory, sim_keys, seed=12)
    assert len(path_a) > 1000
    assert path_a == path_b
    assert [f[:4] for f in fills_a] == [f[:4] for f in fills_b]
    assert len(fills_a) > 3  # the market orders at least
    assert path_a != path_c
