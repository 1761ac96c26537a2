"""A realistic execution result covering every item outcome the reports must show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3

from rebalance_executor.adapters.s3_results import RecordLocation, S3ResultsStore
from rebalance_executor.domain.broker import OrderStatus, OrderType, Quote, Side
from rebalance_executor.domain.plan import Action, PlanItem, RebalancePlan
from rebalance_executor.domain.result import (
    BudgetRecord,
    ExecutionResult,
    ExecutionStatus,
    ExecutionSummary,
    ItemOutcome,
    ItemResult,
    OrderRecord,
    PricePoint,
    Reason,
    TcaSummary,
)

T0 = datetime(2026, 11, 25, 20, 45, 0, tzinfo=UTC)
D = Decimal


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _quote(symbol: str, bid: str, ask: str, t: float = 0) -> Quote:
    return Quote(
        symbol=symbol, bid=D(bid), ask=D(ask), bid_size=D(300), ask_size=D(200), timestamp=at(t)
    )


def _limit_order(
    cid: str,
    side: Side,
    qty: str,
    limits: list[tuple[float, str]],
    *,
    status: OrderStatus,
    filled: str,
    avg: str | None,
    end: float,
    replaces: str | None = None,
) -> OrderRecord:
    return OrderRecord(
        client_order_id=cid,
        broker_order_id=f"b-{cid}",
        side=side,
        type=OrderType.LIMIT,
        qty=D(qty),
        limit_prices=tuple(PricePoint(at=at(t), price=D(p)) for t, p in limits),
        status=status,
        filled_qty=D(filled),
        filled_avg_price=D(avg) if avg else None,
        submitted_at=at(limits[0][0]),
        updated_at=at(end),
        replaces=replaces,
    )


def _traded(
    index: int,
    symbol: str,
    action: Action,
    outcome: ItemOutcome,
    *,
    arrival: tuple[float, str, str],
    orders: tuple[OrderRecord, ...],
    **fields: Any,
) -> ItemResult:
    """An item that sent ``orders``: its arrival quote, mid and start time come from
    ``arrival`` (seconds after T0, bid, ask); ``fields`` are the rest of the ItemResult."""
    t, bid, ask = arrival
    quote = _quote(symbol, bid, ask, t)
    return ItemResult(
        index=index,
        symbol=symbol,
        action=action,
        outcome=outcome,
        arrival_quote=quote,
        arrival_mid=quote.mid,
        started_at=at(t),
        orders_count=len(orders),
        orders=orders,
        **fields,
    )


def _sell_tlt() -> ItemResult:
    first = _limit_order(
        "a1b2c3-0-0",
        Side.SELL,
        "100",
        [(1, "91.16"), (11, "91.14")],
        status=OrderStatus.REPLACED,
        filled="40",
        avg="91.16",
        end=11,
    )
    second = _limit_order(
        "a1b2c3-0-1",
        Side.SELL,
        "60",
        [(11, "91.14")],
        status=OrderStatus.FILLED,
        filled="60",
        avg="91.14",
        end=19,
        replaces="b-a1b2c3-0-0",
    )
    return _traded(
        0,
        "TLT",
        Action.SELL,
        ItemOutcome.FILLED,
        arrival=(1, "91.14", "91.16"),
        orders=(first, second),
        planned_notional=D("-9115.00"),
        planned_qty=D(100),
        filled_qty=D(100),
        filled_notional=D("9114.80"),
        avg_fill_price=D("91.148"),
        slippage_bps=D("0.219"),
        fill_rate=D(1),
        completed_at=at(19),
        time_to_complete_s=D(18),
        replaces_count=1,
    )


def _buy_spy() -> ItemResult:
    order = _limit_order(
        "a1b2c3-1-0",
        Side.BUY,
        "12.345678901",
        [(20, "601.10"), (30, "601.15"), (40, "601.20")],
        status=OrderStatus.FILLED,
        filled="12.345678901",
        avg="601.18",
        end=42,
    )
    return _traded(
        1,
        "SPY",
        Action.BUY,
        ItemOutcome.FILLED,
        arrival=(20, "601.05", "601.25"),
        orders=(order,),
        planned_notional=D("7421.30"),
        planned_qty=D("12.345678901"),
        filled_qty=D("12.345678901"),
        filled_notional=D("7421.98"),
        avg_fill_price=D("601.18"),
        slippage_bps=D("0.499"),
        fill_rate=D(1),
        completed_at=at(42),
        time_to_complete_s=D(22),
        replaces_count=2,
    )


def _buy_nvda_partial() -> ItemResult:
    order = _limit_order(
        "a1b2c3-2-0",
        Side.BUY,
        "30",
        [(20, "187.40"), (35, "187.52")],
        status=OrderStatus.CANCELED,
        filled="18",
        avg="187.47",
        end=58,
    )
    return _traded(
        2,
        "NVDA",
        Action.BUY,
        ItemOutcome.PARTIAL,
        arrival=(20, "187.35", "187.45"),
        orders=(order,),
        reason=Reason.DEADLINE,
        reason_detail="stop point reached with 12 shares open",
        planned_notional=D("5622.00"),
        planned_qty=D(30),
        filled_qty=D(18),
        filled_notional=D("3374.46"),
        avg_fill_price=D("187.47"),
        slippage_bps=D("3.735"),
        fill_rate=D("0.6"),
    )


def _buy_qqq_collar() -> ItemResult:
    order = _limit_order(
        "a1b2c3-3-0",
        Side.BUY,
        "5",
        [(20, "512.30")],
        status=OrderStatus.CANCELED,
        filled="0",
        avg=None,
        end=33,
    )
    return _traded(
        3,
        "QQQ",
        Action.BUY,
        ItemOutcome.NOT_FILLED,
        arrival=(20, "512.20", "512.40"),
        orders=(order,),
        reason=Reason.COLLAR,
        reason_detail="ask 521.10 is 170 bps above arrival (max 150)",
        planned_notional=D("2561.50"),
        planned_qty=D(5),
    )


def _untraded() -> tuple[ItemResult, ...]:
    return (
        ItemResult(
            index=4,
            symbol="PENNY",
            action=Action.BUY,
            outcome=ItemOutcome.NOT_TRADED,
            reason=Reason.BELOW_MIN_NOTIONAL,
            reason_detail="$0.40 < $1.00",
            planned_notional=D("0.40"),
        ),
        ItemResult(
            index=5,
            symbol="BND",
            action=Action.SELL,
            outcome=ItemOutcome.NOT_TRADED,
            reason=Reason.NO_VALID_QUOTE,
            planned_notional=D("-1500"),
        ),
        ItemResult(
            index=6,
            symbol="GLD",
            action=Action.HOLD,
            outcome=ItemOutcome.HOLD,
            planned_notional=D(0),
        ),
    )


def sample_plan() -> RebalancePlan:
    amounts = [
        ("TLT", "SELL", "-9115"),
        ("SPY", "BUY", "7421.30"),
        ("NVDA", "BUY", "5622"),
        ("QQQ", "BUY", "2561.50"),
        ("PENNY", "BUY", "0.40"),
        ("BND", "SELL", "-1500"),
        ("GLD", "HOLD", "0"),
    ]
    return RebalancePlan(
        plan_id="plan-2026-11-25-close",
        correlation_id="corr-42",
        timestamp=T0,
        items=tuple(PlanItem(symbol=s, action=Action(a), trade_amount=D(v)) for s, a, v in amounts),
    )


def sample_result() -> ExecutionResult:
    """PARTIAL plan: filled sell with a replace, filled buy, partial (DEADLINE), collar,
    below-minimum, no-quote, and a HOLD item."""
    return ExecutionResult(
        plan_id="plan-2026-11-25-close",
        status=ExecutionStatus.PARTIAL,
        reason="2 of 6 orderable items did not complete",
        plan=sample_plan(),
        items=(_sell_tlt(), _buy_spy(), _buy_nvda_partial(), _buy_qqq_collar(), *_untraded()),
        budget=BudgetRecord(
            remaining_at_start_s=D(90),
            reserve_s=D(15),
            trading_window_s=D(75),
            preflight_s=D("0.8"),
            sells_s=D("18.2"),
            buys_s=D("38.0"),
            wind_down_s=D("2.5"),
            total_s=D("59.5"),
        ),
        tca=TcaSummary(
            policy="smart",
            slippage_bps=D("0.93"),
            fill_rate=D("0.8411"),
            wall_s=D("59.5"),
            requests_total=41,
            requests_per_order=D("3.4"),
            peak_requests_per_min=38,
        ),
        started_at=T0,
        finished_at=at(59.5),
    )


TRADED_SYMBOLS = ("TLT", "SPY", "NVDA", "QQQ")


def store_sample(bucket: str) -> RecordLocation:
    """Write :func:`sample_result` with the Lambda's own S3 writer (moto must be active)."""
    result = sample_result()
    store = S3ResultsStore(boto3.client("s3"), bucket)
    location = store.execution_location(result.plan_id, result.started_at)
    summary = ExecutionSummary.of(result, location.result_uri, attempt=1)
    store.write(location, result, summary, raw_event={"id": "e-1"}, request_id="req-1")
    return location
