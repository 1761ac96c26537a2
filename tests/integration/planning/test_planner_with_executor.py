"""Planner + executor with the real AlpacaBroker (real alpaca-py) against the simulator."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest

from alpaca_sim.testing import RunningSimulator
from rebalance_executor.domain.allocation import TargetAllocation
from rebalance_executor.domain.plan import Action, RebalancePlan
from rebalance_executor.domain.result import ExecutionResult, ExecutionStatus
from rebalance_executor.planning import resolve_plan
from tests.integration.executor.harness import Harness

TARGETS = {"SPY": Decimal("0.6"), "BND": Decimal("0.4")}


def allocation(h: Harness, minutes_later: int = 0, **options: Any) -> TargetAllocation:
    return TargetAllocation.model_validate(
        {
            "schedule_name": "it-60-40",
            "scheduled_time": h.sim.clock.now() + timedelta(minutes=minutes_later),
            "targets": {s: str(w) for s, w in TARGETS.items()},
            "options": options,
        }
    )


def resolve(h: Harness, alloc: TargetAllocation) -> RebalancePlan | ExecutionResult:
    return asyncio.run(resolve_plan(alloc, broker=h.broker(), clock=h.sim.clock))


def weights(h: Harness) -> dict[str, Decimal]:
    state = h.sim.control.account_state(h.key)
    mids = {s: h.sim.engine.markets[s].quote.mid for s in state.positions}
    values = {s: q * mids[s] for s, q in state.positions.items()}
    equity = state.cash + sum(values.values(), Decimal(0))
    return {s: v / equity for s, v in values.items()}


def test_planned_execution_reaches_targets_and_a_replanned_retry_sends_nothing(
    sim: RunningSimulator,
) -> None:
    h = Harness.start(sim)
    h.account("6000", {"SPY": "100", "BND": "200"})
    alloc = allocation(h)

    plan = resolve(h, alloc)
    assert isinstance(plan, RebalancePlan)
    result = h.run(plan)
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason
    for symbol, target in TARGETS.items():
        assert abs(weights(h)[symbol] - target) <= alloc.options.max_drift_tolerance
    orders = len(h.orders())

    # The idempotency record lost: the same tick re-planned from the live account backs out its
    # own fills, rebuilds the same trades, and the executor's reconciliation sends nothing.
    again = resolve(h, alloc)
    assert isinstance(again, RebalancePlan)
    assert [(i.symbol, i.action) for i in again.items] == [(i.symbol, i.action) for i in plan.items]
    for before, after in zip(plan.items, again.items, strict=True):
        assert abs(after.trade_amount - before.trade_amount) <= abs(before.trade_amount) / 50
    h.run(again)
    assert len(h.orders()) == orders

    # The next tick is a new plan, and the account is now within tolerance.
    later = resolve(h, allocation(h, minutes_later=1))
    assert isinstance(later, ExecutionResult)
    assert later.status is ExecutionStatus.SKIPPED
    assert len(h.orders()) == orders


def test_unrelated_open_orders_count_toward_exposure(sim: RunningSimulator) -> None:
    h = Harness.start(sim)
    h.account("40000", {"SPY": "120"})  # BND wants ~$40k of ~$100k
    alloc = allocation(h, cash_reserve="3000")
    client = TradingClient(h.key, "secret", paper=True, url_override=sim.base_url)
    resting = LimitOrderRequest(
        symbol="BND", qty=100, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=50
    )
    client.submit_order(resting)  # far below the market: rests, holds $5,000 of buying power

    plan = resolve(h, alloc)

    assert isinstance(plan, RebalancePlan)
    bnd = next(i for i in plan.items if i.symbol == "BND")
    mid = sim.engine.markets["BND"].quote.mid
    assert bnd.action is Action.BUY
    assert bnd.current_value is not None
    assert abs(bnd.current_value - 100 * mid) < 50  # the pending 100 shares, at the mid
    # ~$31,600 is wanted, but the resting order holds $5,000 of the $40,000 cash and $3,000
    # stays in reserve: the buy is fitted to $32,000 including the broker's 3% hold.
    assert bnd.trade_amount * Decimal("1.03") <= Decimal(32000)
    assert bnd.trade_amount * Decimal("1.03") > Decimal(31900)
