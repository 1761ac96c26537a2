"""Small builders of domain values for the Lambda tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from rebalance_executor.domain.broker import OrderStatus, OrderType, Side
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ItemOutcome,
    ItemResult,
    OrderRecord,
)

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def filled_result(plan_id: str = "plan-1") -> ExecutionResult:
    """One BUY item filled by two orders (one partially filled, then replaced)."""
    orders = (
        OrderRecord(
            client_order_id="abc-0-0",
            broker_order_id="o-1",
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=Decimal(10),
            status=OrderStatus.CANCELED,
            filled_qty=Decimal(4),
            filled_avg_price=Decimal("100.10"),
            updated_at=T0,
        ),
        OrderRecord(
            client_order_id="abc-0-1",
            broker_order_id="o-2",
            side=Side.BUY,
            type=OrderType.MARKET,
            qty=Decimal(6),
            status=OrderStatus.FILLED,
            filled_qty=Decimal(6),
            filled_avg_price=Decimal("100.20"),
            updated_at=T0,
        ),
        OrderRecord(
            client_order_id="abc-0-2",
            broker_order_id="o-3",
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=Decimal(1),
            status=OrderStatus.CANCELED,
        ),
    )
    item = ItemResult(
        index=0,
        symbol="SPY",
        action=Action.BUY,
        outcome=ItemOutcome.FILLED,
        planned_notional=Decimal(1000),
        planned_qty=Decimal(10),
        filled_qty=Decimal(10),
        filled_notional=Decimal("1001.60"),
        orders_count=3,
        orders=orders,
    )
    return ExecutionResult(
        plan_id=plan_id,
        status=ExecutionStatus.SUCCEEDED,
        items=(item,),
        started_at=T0,
        finished_at=T0,
    )
