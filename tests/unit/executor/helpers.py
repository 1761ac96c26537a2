"""Plans, a stocked FakeBroker and a runner shared by the execution-flow unit tests."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerOrder, OrderStatus, OrderType, Side
from rebalance_executor.domain.clock import Deadline
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy
from rebalance_executor.domain.plan import Action, PlanItem, RebalancePlan
from rebalance_executor.domain.result import ExecutionResult
from rebalance_executor.executor import EarlyStop, KillSwitch, execute_plan
from rebalance_executor.executor.ids import client_order_id, plan_key
from tests.fakes.broker import T0, FakeBroker, VirtualClock

MARKET = ExecutionConfig(policy=ExecutionPolicy.MARKET)


def plan(*items: tuple[str, Action, str], plan_id: str = "p-flow") -> RebalancePlan:
    return RebalancePlan(
        plan_id=plan_id,
        timestamp=T0,
        items=tuple(
            PlanItem(symbol=s, action=a, trade_amount=Decimal(amount)) for s, a, amount in items
        ),
    )


def stocked_broker(cash: str = "10000", *, margin: bool = False) -> FakeBroker:
    broker = FakeBroker(clock=VirtualClock(), cash=Decimal(cash), margin=margin)
    broker.quote("AAA", "99.99", "100.01")
    broker.quote("BBB", "49.99", "50.01")
    broker.positions = {"BBB": Decimal(40)}
    return broker


def run(
    p: RebalancePlan,
    broker: FakeBroker,
    config: ExecutionConfig = MARKET,
    *,
    kill: KillSwitch | None = None,
    refusal: EarlyStop | None = None,
    window_s: float = 120.0,
) -> ExecutionResult:
    deadline = Deadline.from_remaining(broker.clock, window_s + 10, reserve_s=8.0)
    return asyncio.run(
        execute_plan(
            p,
            broker=broker,
            clock=broker.clock,
            deadline=deadline,
            config=config,
            kill_switch=kill,
            refusal=refusal,
        )
    )


def leave_order(
    broker: FakeBroker,
    p: RebalancePlan,
    index: int,
    *,
    qty: str,
    filled: str,
    price: str,
    status: OrderStatus,
) -> BrokerOrder:
    """Book an order an earlier attempt of ``p`` left at the broker (item ``index``, seq 0),
    with ``filled`` shares already executed at ``price`` (and applied to the account)."""
    item = p.items[index]
    side = Side.BUY if item.action is Action.BUY else Side.SELL
    order = BrokerOrder(
        id=f"earlier-{index}",
        client_order_id=client_order_id(plan_key(p.plan_id), index, 0),
        symbol=item.symbol,
        side=side,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        filled_qty=Decimal(filled),
        filled_avg_price=Decimal(price) if Decimal(filled) > 0 else None,
        limit_price=Decimal(price),
        status=status,
        submitted_at=T0 + timedelta(seconds=1),
    )
    broker.orders[order.id] = order
    sign = 1 if side is Side.BUY else -1
    broker.positions[item.symbol] = broker.positions.get(item.symbol, Decimal(0)) + sign * Decimal(
        filled
    )
    broker.cash -= sign * Decimal(filled) * Decimal(price)
    return order
