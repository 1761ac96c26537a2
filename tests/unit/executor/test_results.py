"""Status classification (SPEC §3.3) and TCA (SPEC §8) on plain values."""

from __future__ import annotations

from decimal import Decimal

from rebalance_executor.domain.broker import BrokerOrder, OrderStatus, OrderType, Side
from rebalance_executor.domain.plan import Action, PlanItem
from rebalance_executor.domain.result import ExecutionStatus, ItemOutcome, ItemResult, Reason
from rebalance_executor.executor.results import (
    RequestStats,
    classify,
    overfilled,
    peak_per_minute,
    slippage_bps,
    tca,
    traded_result,
    within_tolerance,
)
from rebalance_executor.executor.sizing import Sized
from rebalance_executor.executor.state import ItemState


def res(
    outcome: ItemOutcome,
    *,
    filled: str = "0",
    reason: Reason | None = None,
    action: Action = Action.BUY,
    slip: str | None = None,
) -> ItemResult:
    return ItemResult(
        index=0,
        symbol="X",
        action=action,
        outcome=outcome,
        reason=reason,
        planned_notional=Decimal(1000),
        filled_qty=Decimal(filled),
        filled_notional=Decimal(filled) * 100,
        slippage_bps=Decimal(slip) if slip else None,
        orders_count=1 if outcome is not ItemOutcome.NOT_TRADED else 0,
    )


def test_tolerance_is_max_of_one_dollar_and_half_percent() -> None:
    assert within_tolerance(Decimal(10), Decimal("9.96"), Decimal(100))  # $4 short of $1000
    assert not within_tolerance(Decimal(10), Decimal("9.9"), Decimal(100))  # $10 short
    assert within_tolerance(Decimal(1), Decimal("0.99"), Decimal(100))  # $1 short of $100
    assert not within_tolerance(Decimal(1), Decimal("0.98"), Decimal(100))


def test_classification() -> None:
    filled = res(ItemOutcome.FILLED, filled="10")
    partial = res(ItemOutcome.PARTIAL, filled="3", reason=Reason.DEADLINE)
    unfilled = res(ItemOutcome.NOT_FILLED, reason=Reason.DEADLINE)
    no_quote = res(ItemOutcome.NOT_TRADED, reason=Reason.NO_VALID_QUOTE)
    tiny = res(ItemOutcome.NOT_TRADED, reason=Reason.BELOW_MIN_NOTIONAL)
    hold = res(ItemOutcome.HOLD, action=Action.HOLD)
    assert classify([filled, tiny, hold])[0] is ExecutionStatus.SUCCEEDED
    assert classify([filled, partial])[0] is ExecutionStatus.PARTIAL
    assert classify([filled, no_quote])[0] is ExecutionStatus.PARTIAL
    status, reason = classify([unfilled, no_quote])
    assert status is ExecutionStatus.FAILED
    assert reason is not None
    assert "NO_VALID_QUOTE" in reason
    assert "DEADLINE" in reason
    assert classify([tiny, hold])[0] is ExecutionStatus.SKIPPED


def test_slippage_sign_is_cost_positive() -> None:
    assert slippage_bps(Side.BUY, Decimal("100.05"), Decimal(100)) == Decimal("5.00")
    assert slippage_bps(Side.SELL, Decimal("99.95"), Decimal(100)) == Decimal("5.00")
    assert slippage_bps(Side.SELL, Decimal("100.05"), Decimal(100)) == Decimal("-5.00")


def test_plan_tca_weights_slippage_by_filled_notional() -> None:
    a = res(ItemOutcome.FILLED, filled="10", slip="10")  # $1000 at 10 bps
    b = res(ItemOutcome.PARTIAL, filled="5", slip="4", reason=Reason.DEADLINE)  # $500 at 4 bps
    summary = tca("market", [a, b], 12.5, RequestStats(total=20, samples=[]))
    assert summary.slippage_bps == Decimal("8.00")
    assert summary.fill_rate == Decimal("0.75")
    assert summary.requests_per_order == Decimal(10)


def test_peak_requests_per_minute() -> None:
    samples = [(0.0, 0), (30.0, 50), (59.0, 90), (90.0, 100), (150.0, 300)]
    assert peak_per_minute(samples) == 200
    assert peak_per_minute([]) == 0


def test_an_overfilled_plan_is_never_succeeded_and_says_which_item() -> None:
    over = res(ItemOutcome.OVERFILLED, filled="15", reason=Reason.OVERFILL)
    filled = res(ItemOutcome.FILLED, filled="10")
    status, reason = classify([filled, over])
    assert status is ExecutionStatus.PARTIAL
    assert reason == "over-filled beyond tolerance: X"


def test_overfill_is_measured_against_the_same_tolerance_as_a_shortfall() -> None:
    assert not overfilled(Decimal(10), Decimal("10.04"), Decimal(100))  # $4 over $1000
    assert overfilled(Decimal(10), Decimal("10.1"), Decimal(100))  # $10 over
    assert overfilled(Decimal(1), Decimal("1.02"), Decimal(100))  # $2 over $100 ($1 floor)


def test_plan_fill_rate_is_not_capped_at_the_plan() -> None:
    over = res(ItemOutcome.OVERFILLED, filled="15", reason=Reason.OVERFILL)  # $1500 of $1000
    summary = tca("smart", [over], 1.0, RequestStats(1, [(0.0, 0), (1.0, 1)]))
    assert summary.fill_rate == Decimal("1.5")


def test_broker_fills_beyond_the_plan_make_the_item_overfilled_with_its_uncapped_ratio() -> None:
    state = ItemState(
        index=0,
        item=PlanItem(symbol="X", action=Action.BUY, trade_amount=Decimal(10_000)),
        side=Side.BUY,
        fractionable=False,
        planned_qty=Decimal(100),
        target_qty=Decimal(100),
        ref_price=Decimal(100),
        quote=None,
    )
    state.record(
        BrokerOrder(
            id="o1",
            client_order_id="k-0-0",
            symbol="X",
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=Decimal(100),
            filled_qty=Decimal(150),  # a replacement that carried the original qty
            filled_avg_price=Decimal(100),
            status=OrderStatus.FILLED,
        )
    )
    item = traded_result(state, Sized(Decimal(100), Decimal(100), None))
    assert item.outcome is ItemOutcome.OVERFILLED
    assert item.reason is Reason.OVERFILL
    assert item.fill_rate == Decimal("1.5")
    assert item.filled_qty == Decimal(150)
    assert item.reason_detail == "broker filled 150 against 100 planned"
