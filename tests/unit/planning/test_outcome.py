"""resolve_plan: a plan, or the SKIPPED / REJECTED result the service records instead."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from rebalance_executor.domain.allocation import TargetAllocation
from rebalance_executor.domain.broker import BrokerOrder, OrderStatus, OrderType, Side
from rebalance_executor.domain.clock import SystemClock
from rebalance_executor.domain.plan import RebalancePlan
from rebalance_executor.domain.result import ExecutionResult, ExecutionStatus, ItemOutcome
from rebalance_executor.executor.ids import client_order_id, plan_key
from rebalance_executor.planning import resolve_plan
from tests.fakes.broker import FakeBroker
from tests.unit.planning.fake_broker import NOW, snapshot_broker

ALLOCATION = TargetAllocation.model_validate(
    {
        "schedule_name": "monthly",
        "scheduled_time": NOW.isoformat(),
        "targets": {"SPY": "0.6", "BND": "0.4"},
    }
)


def resolve(broker: FakeBroker) -> RebalancePlan | ExecutionResult:
    return asyncio.run(resolve_plan(ALLOCATION, broker=broker, clock=SystemClock()))


def test_unknown_symbol_is_a_rejected_result_without_reading_the_account() -> None:
    broker = snapshot_broker(prices={"SPY": "500"})
    result = resolve(broker)
    assert isinstance(result, ExecutionResult)
    assert result.status is ExecutionStatus.REJECTED
    assert result.reason is not None
    assert "targets.BND" in result.reason
    assert result.plan_id == ALLOCATION.derived_plan_id()
    assert broker.calls == ["get_clock", "get_assets"]


def test_closed_market_is_skipped_not_an_error() -> None:
    result = resolve(snapshot_broker(is_open=False))
    assert isinstance(result, ExecutionResult)
    assert result.status is ExecutionStatus.SKIPPED
    assert result.reason is not None
    assert result.reason.startswith("MARKET_CLOSED")
    assert result.items == ()


def test_within_tolerance_is_skipped_with_hold_items() -> None:
    result = resolve(snapshot_broker(positions={"SPY": "120", "BND": "571"}))
    assert isinstance(result, ExecutionResult)
    assert result.status is ExecutionStatus.SKIPPED
    assert [i.outcome for i in result.items] == [ItemOutcome.HOLD, ItemOutcome.HOLD]
    assert result.plan is not None


def test_retry_recognises_the_executors_own_orders_for_this_plan() -> None:
    coid = client_order_id(plan_key(ALLOCATION.derived_plan_id()), 0, 0)
    own = BrokerOrder(
        id="o1",
        client_order_id=coid,
        symbol="SPY",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal(20),
        filled_qty=Decimal(20),
        status=OrderStatus.FILLED,
        submitted_at=NOW + timedelta(seconds=3),
    )
    plan = resolve(snapshot_broker(positions={"SPY": "120", "BND": "500"}, orders=[own]))
    assert isinstance(plan, RebalancePlan)
    assert plan.items[0].trade_amount == Decimal("10000.00")  # as on the first attempt
