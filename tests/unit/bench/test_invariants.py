"""The §4.10 checker on records it is fed: each violation is caught, a clean run passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rebalance_executor.bench.invariants import (
    BrokerFill,
    BrokerOrderFact,
    BrokerRecords,
    InvariantKind,
    check_account,
    check_execution,
    plan_keys_in,
)
from rebalance_executor.domain.broker import OrderStatus, OrderType, Side
from rebalance_executor.domain.plan import Action, PlanItem, RebalancePlan
from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ItemOutcome,
    ItemResult,
    OrderRecord,
)
from rebalance_executor.executor.ids import client_order_id, plan_key

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
PLAN = RebalancePlan(
    plan_id="inv-plan",
    timestamp=T0,
    items=(
        PlanItem(symbol="SPY", action=Action.BUY, trade_amount=Decimal(5000)),
        PlanItem(
            symbol="BND",
            action=Action.SELL,
            trade_amount=Decimal(-720),
            target_weight=Decimal(0),
        ),
    ),
)
KEY = plan_key(PLAN.plan_id)
MIDS = {"SPY": ((T0, Decimal(500)),), "BND": ((T0, Decimal(72)),)}


def _order(
    index: int, seq: int, symbol: str, side: str, *, filled: str, status: str
) -> BrokerOrderFact:
    return BrokerOrderFact(
        order_id=f"id-{index}-{seq}",
        client_order_id=client_order_id(KEY, index, seq),
        symbol=symbol,
        side=side,
        status=status,
        filled_qty=Decimal(filled),
        submitted_at=T0 + timedelta(seconds=seq),
    )


def _fill(order: BrokerOrderFact, qty: str, price: str, second: int) -> BrokerFill:
    return BrokerFill(
        order.order_id,
        order.client_order_id,
        order.symbol,
        order.side,
        Decimal(qty),
        Decimal(price),
        T0 + timedelta(seconds=second),
    )


def _records(
    orders: list[BrokerOrderFact], fills: list[BrokerFill], cash: str, positions: dict[str, str]
) -> BrokerRecords:
    return BrokerRecords(
        orders=tuple(orders),
        fills=tuple(fills),
        cash=Decimal(cash),
        positions={s: Decimal(q) for s, q in positions.items()},
        mids=MIDS,
    )


def _clean_run() -> tuple[BrokerRecords, ExecutionResult]:
    """Sell all 10 BND held, buy 10 SPY with $5,000 starting cash: no violation."""
    sell = _order(1, 0, "BND", "sell", filled="10", status="filled")
    buy = _order(0, 0, "SPY", "buy", filled="10", status="filled")
    fills = [_fill(sell, "10", "72", 1), _fill(buy, "10", "500", 2)]
    records = _records([sell, buy], fills, cash="720", positions={"SPY": "10", "BND": "0"})
    return records, _result(
        [("SPY", 0, [buy], Decimal(10), Decimal(500)), ("BND", 1, [sell], Decimal(10), Decimal(72))]
    )


def _result(
    items: list[tuple[str, int, list[BrokerOrderFact], Decimal, Decimal]],
) -> ExecutionResult:
    results = []
    for symbol, index, orders, qty, avg in items:
        records = tuple(
            OrderRecord(
                client_order_id=o.client_order_id,
                broker_order_id=o.order_id,
                side=Side(o.side),
                type=OrderType.LIMIT,
                qty=o.filled_qty,
                status=OrderStatus(o.status),
                filled_qty=o.filled_qty,
            )
            for o in orders
        )
        results.append(
            ItemResult(
                index=index,
                symbol=symbol,
                action=PLAN.items[index].action,
                outcome=ItemOutcome.FILLED,
                planned_notional=PLAN.items[index].trade_amount,
                filled_qty=qty,
                filled_notional=qty * avg,
                avg_fill_price=avg,
                orders=records,
            )
        )
    return ExecutionResult(
        plan_id=PLAN.plan_id,
        status=ExecutionStatus.SUCCEEDED,
        plan=PLAN,
        items=tuple(results),
        started_at=T0,
        finished_at=T0 + timedelta(minutes=1),
    )


def test_clean_run_has_no_violation() -> None:
    records, result = _clean_run()
    assert check_execution(PLAN, result, records) == []
    assert plan_keys_in(records) == {KEY}


def test_overfill_is_caught() -> None:
    """70 bought against a $5,000 plan at $500 (10 shares): the replace-race over-fill."""
    first = _order(0, 0, "SPY", "buy", filled="2", status="replaced")
    second = _order(0, 1, "SPY", "buy", filled="8", status="filled")
    extra = _order(0, 2, "SPY", "buy", filled="60", status="filled")
    fills = [
        _fill(first, "2", "500", 1),
        _fill(second, "8", "500", 2),
        _fill(extra, "60", "500", 3),
    ]
    records = _records([first, second, extra], fills, cash="100000", positions={"SPY": "70"})
    kinds = [v.kind for v in check_execution(PLAN, None, records)]
    assert kinds == [InvariantKind.OVERFILL]


def test_liquidation_beyond_the_position_is_caught_as_overfill_and_short() -> None:
    sell = _order(1, 0, "BND", "sell", filled="12", status="filled")
    records = _records([sell], [_fill(sell, "12", "72", 1)], cash="864", positions={"BND": "-2"})
    kinds = sorted(v.kind for v in check_execution(PLAN, None, records))
    # 10 held before the plan (final -2 less the -12 sold): sold 12 of 10, left short 2
    assert kinds == [InvariantKind.OVERFILL, InvariantKind.SHORT]


def test_margin_debt_is_caught_and_allowed_only_with_margin() -> None:
    """$5,000 of SPY bought on $4,000 of cash: cash ends at -$1,000."""
    buy = _order(0, 0, "SPY", "buy", filled="10", status="filled")
    records = _records([buy], [_fill(buy, "10", "500", 1)], cash="-1000", positions={"SPY": "10"})
    found = check_execution(PLAN, None, records)
    assert [v.kind for v in found] == [InvariantKind.MARGIN]
    assert "-1000.00" in found[0].detail
    assert check_execution(PLAN, None, records, allow_margin=True) == []


def test_cash_reserve_is_a_floor() -> None:
    buy = _order(0, 0, "SPY", "buy", filled="10", status="filled")
    records = _records([buy], [_fill(buy, "10", "500", 1)], cash="400", positions={"SPY": "10"})
    assert check_execution(PLAN, None, records, cash_reserve=Decimal(400)) == []
    kinds = [v.kind for v in check_execution(PLAN, None, records, cash_reserve=Decimal(500))]
    assert kinds == [InvariantKind.MARGIN]


def test_left_over_live_orders_are_caught_whatever_their_status() -> None:
    orders = [
        _order(0, 0, "SPY", "buy", filled="0", status="new"),
        _order(0, 1, "SPY", "buy", filled="0", status="pending_cancel"),
        _order(0, 2, "SPY", "buy", filled="0", status="held"),
        _order(0, 3, "SPY", "buy", filled="0", status="a_status_nobody_knows"),
        _order(0, 4, "SPY", "buy", filled="0", status="canceled"),
    ]
    records = _records(orders, [], cash="5000", positions={})
    found = check_account(records, {KEY: PLAN.plan_id})
    assert [v.kind for v in found] == [InvariantKind.LIVE_ORDER] * 4


def test_unrelated_orders_are_not_the_plans() -> None:
    other = BrokerOrderFact("x", "manual-order-1", "SPY", "buy", "new", Decimal(0), T0)
    records = _records([other], [], cash="5000", positions={})
    assert plan_keys_in(records) == set()
    assert check_account(records, {KEY: PLAN.plan_id}) == []


def test_result_that_differs_from_the_broker_is_caught() -> None:
    records, honest = _clean_run()
    spy = honest.items[0]
    under = spy.model_copy(update={"filled_qty": Decimal(9)})
    lost = honest.model_copy(update={"items": (under, honest.items[1])})
    found = check_execution(PLAN, lost, records)
    assert [v.kind for v in found] == [InvariantKind.RESULT_MISMATCH]
    assert "result filled 9, broker 10" in found[0].detail

    nothing = honest.model_copy(update={"items": (), "status": ExecutionStatus.REJECTED})
    kinds = [v.kind for v in check_execution(PLAN, nothing, records)]
    assert kinds == [InvariantKind.RESULT_MISMATCH, InvariantKind.RESULT_MISMATCH]


def test_wrong_average_price_and_missing_order_are_caught() -> None:
    records, honest = _clean_run()
    spy = honest.items[0]
    priced = spy.model_copy(update={"avg_fill_price": Decimal("499.90")})
    found = check_execution(PLAN, honest.model_copy(update={"items": (priced,)}), records)
    assert "avg price 499.90" in found[0].detail
    orphan = spy.model_copy(update={"orders": ()})
    found = check_execution(PLAN, honest.model_copy(update={"items": (orphan,)}), records)
    assert "missing from the result" in found[0].detail
