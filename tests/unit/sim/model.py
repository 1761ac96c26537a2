"""Shared pieces of the market-model tests: a tape stepped in memory, an engine on the ideal
broker with a paused clock (orders go through ``trading.submit_order``, the HTTP routes' own
entry point), and the sampling-error arithmetic the tolerances are built from."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from alpaca_sim import trading
from alpaca_sim.engine import SimEngine
from alpaca_sim.market import StepFlow, SymbolMarket
from alpaca_sim.orders import SimOrder
from alpaca_sim.scenario import AccountSpec, BrokerSpec, Scenario, SymbolSpec

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# a deviation of more than this many standard errors fails a statistical test (p < 1e-4)
Z = 4.0


def spec(**keys: Any) -> SymbolSpec:
    return SymbolSpec.model_validate(keys)


def tape(
    symbol_spec: SymbolSpec, steps: int, seed: int = 1, step_s: float = 1.0
) -> tuple[SymbolMarket, list[StepFlow]]:
    """A market stepped ``steps`` times and the takers of every step."""
    market = SymbolMarket("X", symbol_spec, seed, step_s, T0)
    flows = []
    for step in range(1, steps + 1):
        flow = market.step(step, T0 + timedelta(seconds=step * step_s), frozen=False)
        assert flow is not None
        flows.append(flow)
    return market, flows


def standard_error(values: Sequence[float]) -> float:
    return statistics.stdev(values) / math.sqrt(len(values))


def proportion_error(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-12) / n)


@dataclass
class Session:
    """One symbol ``X`` on the ideal broker (instant acknowledgement, no random partial fills),
    a cash account with ample cash, and a paused clock moved one step at a time."""

    engine: SimEngine

    @classmethod
    def start(cls, symbol_spec: SymbolSpec, seed: int, step_s: float = 1.0) -> Session:
        scenario = Scenario(
            symbols={"X": symbol_spec},
            broker=BrokerSpec(mode="ideal"),
            account=AccountSpec(type="cash"),
            cash=Decimal(10**9),
            positions={"X": Decimal(10**6)},
        )
        engine = SimEngine(seed=seed, scenario=scenario, start=T0, step_s=step_s)
        engine.clock.pause()
        return cls(engine)

    @property
    def quote(self) -> Any:
        return self.engine.markets["X"].quote

    def submit(self, side: str, qty: Decimal, limit: Decimal | None = None) -> SimOrder:
        body: dict[str, Any] = {
            "symbol": "X",
            "qty": str(qty),
            "side": side,
            "type": "market" if limit is None else "limit",
            "time_in_force": "day",
        }
        if limit is not None:
            body["limit_price"] = str(limit)
        return trading.submit_order(self.engine, self.engine.account("key"), body)

    def run(self, seconds: float) -> None:
        self.engine.clock.advance(seconds)
        self.engine.advance()

    def run_until_filled(self, order: SimOrder, limit_s: float) -> float | None:
        """Step until ``order`` is filled; its fill time in seconds, or None."""
        waited = 0.0
        step_s = self.engine.step_s
        while order.is_open and waited < limit_s:
            self.run(step_s)
            waited += step_s
        return None if order.is_open else waited

    def quote_path(self) -> list[tuple[Decimal, Decimal, Decimal, Decimal]]:
        return [(q.bid, q.ask, q.bid_size, q.ask_size) for q in self.engine.markets["X"].history]
