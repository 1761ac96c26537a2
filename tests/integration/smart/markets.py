"""Simulated markets and helpers for the smart-policy integration tests."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from alpaca_sim.scenario import Scenario, SymbolSpec
from rebalance_executor.domain.clock import Deadline
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import RebalancePlan
from rebalance_executor.domain.result import ExecutionResult
from rebalance_executor.executor import execute_plan
from tests.integration.executor.harness import Harness


def scenario(**symbols: SymbolSpec) -> Scenario:
    return Scenario(name="smart-it", symbols=dict(symbols))


def spec(
    price: str,
    *,
    spread_bps: str = "10",
    volatility: str = "0.02",
    drift: str = "0",
    trade_rate_per_min: str = "30",
    fractionable: bool = True,
) -> SymbolSpec:
    return SymbolSpec(
        price=Decimal(price),
        spread_bps=Decimal(spread_bps),
        volatility=Decimal(volatility),
        drift=Decimal(drift),
        trade_rate_per_min=Decimal(trade_rate_per_min),
        fractionable=fractionable,
        depth=Decimal(500),
    )


def run_with_budget(
    harness: Harness,
    plan: RebalancePlan,
    config: ExecutionConfig,
    *,
    budget_s: float,
    reserve_s: float,
) -> ExecutionResult:
    """execute_plan with the deadline a Lambda with ``budget_s`` remaining would get."""
    clock = harness.sim.clock
    deadline = Deadline.from_remaining(clock, budget_s, reserve_s)
    return asyncio.run(
        execute_plan(
            plan,
            broker=harness.broker(deadline),
            clock=clock,
            deadline=deadline,
            config=config,
        )
    )
