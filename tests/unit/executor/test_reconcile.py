"""Reconciliation (SPEC §4.2): the plan's orders are found by prefix, replacements by chain."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerOrder, OrderStatus, OrderType, Side
from rebalance_executor.executor.ids import client_order_id, plan_key
from rebalance_executor.executor.reconcile import Expected, group_plan_orders
from tests.fakes.broker import T0

KEY = plan_key("plan-r")
SINCE = T0 - timedelta(minutes=10)
EXPECTED = {0: Expected("AAA", Side.BUY, SINCE), 1: Expected("BBB", Side.BUY, SINCE)}


def order(
    oid: str,
    coid: str,
    symbol: str,
    *,
    status: OrderStatus = OrderStatus.FILLED,
    filled: str = "0",
    price: str | None = None,
    replaces: str | None = None,
    at: int = 0,
    side: Side = Side.BUY,
) -> BrokerOrder:
    return BrokerOrder(
        id=oid,
        client_order_id=coid,
        symbol=symbol,
        side=side,
        type=OrderType.LIMIT,
        qty=Decimal(10),
        filled_qty=Decimal(filled),
        filled_avg_price=Decimal(price) if price else None,
        status=status,
        submitted_at=T0 + timedelta(seconds=at),
        replaces=replaces,
    )


def test_plan_orders_found_by_prefix_and_replacement_chain() -> None:
    orders = [
        order("r2", "random-2", "AAA", status=OrderStatus.NEW, replaces="r1", at=2),
        order(
            "o1",
            client_order_id(KEY, 0, 0),
            "AAA",
            status=OrderStatus.REPLACED,
            filled="3",
            price="10",
            at=0,
        ),
        order(
            "r1",
            "random-1",
            "AAA",
            status=OrderStatus.REPLACED,
            filled="2",
            price="11",
            replaces="o1",
            at=1,
        ),
        order("x1", client_order_id(plan_key("other"), 0, 0), "AAA", filled="10", price="10"),
        order("x2", "manual-order", "AAA", filled="10", price="10"),
        order(
            "b1",
            client_order_id(KEY, 1, 0),
            "BBB",
            status=OrderStatus.CANCELED,
            filled="4",
            price="5",
        ),
    ]
    found = group_plan_orders(orders, KEY, EXPECTED)
    assert {o.id for o in found.of(0)} == {"o1", "r1", "r2"}
    assert {o.id for o in found.of(1)} == {"b1"}
    assert found.next_seq == {0: 1, 1: 1}
    assert [o.id for o in found.live()] == ["r2"]
    prior = found.prior(0)
    assert prior.filled_qty == 5
    assert prior.filled_notional == Decimal(52)
    assert prior.live_unfilled == 10
    assert found.prior(1).live_unfilled == 0


def test_an_order_with_the_items_id_that_does_not_fit_is_refused_not_adopted() -> None:
    orders = [
        order("w1", client_order_id(KEY, 0, 5), "BBB", filled="10", price="10"),  # wrong symbol
        order("w2", client_order_id(KEY, 1, 0), "BBB", filled="10", side=Side.SELL),  # wrong side
        order("ok", client_order_id(KEY, 1, 1), "BBB", filled="1", price="5", at=5),
    ]
    found = group_plan_orders(orders, KEY, EXPECTED)
    assert found.of(0) == ()
    assert [o.id for o in found.of(1)] == ["ok"]
    assert "symbol BBB is not AAA" in found.refused[0]
    assert "side sell is not buy" in found.refused[1]
    # the refused ids stay taken: no new order reuses them
    assert found.next_seq == {0: 6, 1: 2}


def test_an_order_submitted_before_the_plan_is_refused() -> None:
    old = order("y1", client_order_id(KEY, 0, 0), "AAA", filled="10", at=-3600)
    found = group_plan_orders([old], KEY, EXPECTED)
    assert found.of(0) == ()
    assert "before the plan" in found.refused[0]
