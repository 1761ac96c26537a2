"""Shared pieces of the simulator's fill tests: alpaca-py order requests, a paused simulator
with a client for it, and a symbol whose resting orders fill only through takers (flow)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from alpaca_sim.scenario import (
    AccountSpec,
    BrokerSpec,
    Scenario,
    SymbolSpec,
    default_scenario,
)
from alpaca_sim.testing import RunningSimulator
from tests.fixtures.sim import SimFactory

# A still latent price (volatility 0, so takers move nothing), a 20-tick spread and 30 takers a
# minute: a limit one tick inside the spread is never reached by the quote's path, only by takers.
FLOW_ONLY = SymbolSpec.model_validate(
    {
        "price": Decimal(100),
        "spread_ticks": Decimal(20),
        "volatility": Decimal(0),
        "depth": Decimal(100),
        "trades_per_min": Decimal(30),
    }
)


def limit_order(
    symbol: str, qty: float, side: OrderSide, price: float | Decimal, **kw: Any
) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol=symbol,
        qty=qty,
        side=side,
        time_in_force=TimeInForce.DAY,
        limit_price=float(price),
        **kw,
    )


def market_order(symbol: str, qty: float, side: OrderSide) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY)


def ideal(scenario: Scenario | None = None) -> Scenario:
    """``scenario`` (default universe) on the ideal broker and a cash account: for tests of market
    physics and reservation arithmetic only (instant acknowledgement, no random partial fills)."""
    base = scenario or default_scenario()
    return base.model_copy(
        update={"broker": BrokerSpec(mode="ideal"), "account": AccountSpec(type="cash")}
    )


def paused(
    factory: SimFactory,
    keys: tuple[str, str],
    *,
    seed: int = 0,
    scenario: Scenario | None = None,
    ideal_broker: bool = False,
) -> tuple[RunningSimulator, Any]:
    """A simulator whose clock only moves when the test advances it, and a client for it
    (``ideal_broker``: see :func:`ideal`)."""
    running = factory(seed=seed, scenario=ideal(scenario) if ideal_broker else scenario)
    running.control.pause_clock()
    return running, TradingClient(*keys, paper=True, url_override=running.base_url)
