"""Benchmark metrics from broker ground truth: slippage sign, weights, fill rate, arrival mid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from alpaca_sim.engine import FillRecord
from alpaca_sim.market import QuoteTick
from rebalance_executor.bench.metrics import (
    ItemMeasure,
    RunRecord,
    fill_rate,
    measure_items,
    mid_at,
    paths_identical,
    percentile,
    weighted_slippage,
)
from rebalance_executor.domain.plan import PlanItem
from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ItemOutcome,
    ItemResult,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _item(
    side: int,
    avg: str | None,
    mid: str = "100",
    *,
    qty: str = "10",
    planned: str = "10",
    notional: str = "1000",
) -> ItemMeasure:
    return ItemMeasure(
        symbol="X",
        side=side,
        planned_notional=Decimal(notional),
        planned_qty=Decimal(planned),
        filled_qty=Decimal(qty) if avg is not None else Decimal(0),
        avg_fill=None if avg is None else Decimal(avg),
        arrival_mid=Decimal(mid),
        decision_mid=Decimal(mid),
        orders=1,
    )


def test_slippage_is_a_cost_when_buying_above_or_selling_below_the_arrival_mid() -> None:
    assert _item(1, "100.10").slippage_bps == Decimal(10)
    assert _item(-1, "99.90").slippage_bps == Decimal(10)
    assert _item(1, "99.90").slippage_bps == Decimal(-10)
    assert _item(-1, "100.10").slippage_bps == Decimal(-10)


def test_slippage_is_weighted_by_filled_notional_and_unfilled_items_are_left_out() -> None:
    big = _item(1, "100.10", qty="30")  # 10 bps on $3003
    small = _item(1, "100.00", qty="10")  # 0 bps on $1000
    unfilled = _item(1, None)
    slip = weighted_slippage([big, small, unfilled])
    assert slip is not None
    assert abs(slip - Decimal(10) * Decimal("3003") / Decimal("4003")) < Decimal("0.0001")
    assert weighted_slippage([unfilled]) is None


def test_fill_rate_weights_planned_notional_and_caps_each_item_at_one() -> None:
    full = _item(1, "100", qty="12", planned="10", notional="3000")  # overfilled → 1
    half = _item(1, "100", qty="5", planned="10", notional="1000")
    never_sized = _item(1, None, planned="0", notional="1000")  # not traded counts as 0
    assert fill_rate([full, half, never_sized]) == Decimal("3500") / Decimal("5000")
    assert fill_rate([]) == 0


def test_percentile_is_nearest_rank() -> None:
    values = [Decimal(v) for v in range(1, 21)]
    assert percentile(values, 0.95) == 19
    assert percentile(values, 1.0) == 20
    assert percentile([], 0.95) is None


def _tick(step: int, bid: str, ask: str) -> QuoteTick:
    return QuoteTick(
        "X",
        step,
        T0 + timedelta(seconds=step),
        Decimal(bid),
        Decimal(ask),
        Decimal(100),
        Decimal(100),
    )


def test_mid_at_takes_the_last_quote_at_or_before_the_instant() -> None:
    path = [_tick(0, "99", "101"), _tick(5, "101", "103")]
    assert mid_at(path, T0 + timedelta(seconds=4.9)) == 100
    assert mid_at(path, T0 + timedelta(seconds=5)) == 102
    assert mid_at(path, T0 - timedelta(seconds=1)) == 100
    assert mid_at([], T0) is None


def test_measure_items_uses_broker_fills_and_the_mid_at_the_first_order() -> None:
    plan_items = (
        PlanItem.model_validate({"symbol": "X", "action": "BUY", "trade_amount": "1000"}),
        PlanItem.model_validate({"symbol": "Y", "action": "SELL", "trade_amount": "-500"}),
        PlanItem.model_validate({"symbol": "Z", "action": "HOLD", "trade_amount": "0"}),
    )
    result = ExecutionResult(
        plan_id="p",
        status=ExecutionStatus.PARTIAL,
        items=(
            ItemResult(
                index=0,
                symbol="X",
                action="BUY",
                outcome=ItemOutcome.FILLED,
                planned_notional=Decimal(1000),
                planned_qty=Decimal(10),
            ),
            ItemResult(
                index=1,
                symbol="Y",
                action="SELL",
                outcome=ItemOutcome.NOT_FILLED,
                planned_notional=Decimal(500),
                planned_qty=Decimal(5),
            ),
        ),
        started_at=T0,
        finished_at=T0 + timedelta(seconds=30),
    )
    submitted = (T0 + timedelta(seconds=6)).isoformat()
    orders = [
        {"symbol": "X", "submitted_at": (T0 + timedelta(seconds=9)).isoformat()},
        {"symbol": "X", "submitted_at": submitted},
    ]
    fills = [
        FillRecord("k", "o1", "c1", "X", "buy", Decimal(4), Decimal("102.5"), "maker", T0, "flow"),
        FillRecord("k", "o2", "c2", "X", "buy", Decimal(6), Decimal("103.5"), "taker", T0, "taker"),
    ]
    paths = {"X": [_tick(0, "99", "101"), _tick(5, "101", "103")], "Y": [_tick(0, "9", "11")]}
    measured = measure_items(
        plan_items, result, orders=orders, fills=fills, quote_paths=paths, decision_at=T0
    )
    assert [m.symbol for m in measured] == ["X", "Y"]
    x, y = measured
    assert x.avg_fill == Decimal("103.1")
    assert x.arrival_mid == 102  # the mid when the FIRST order arrived (t=6), not the later one
    assert x.decision_mid == 100
    # the NBBO at the first order: 101 x 103, two dollars wide = 200 ticks, half = 98.04 bps
    assert x.arrival_spread_ticks == 200
    assert x.arrival_half_spread_bps is not None
    assert round(x.arrival_half_spread_bps, 2) == Decimal("98.04")
    assert x.orders == 2
    assert x.fill_fraction == 1
    assert y.avg_fill is None
    assert y.arrival_mid is None
    assert y.arrival_half_spread_bps is None  # never ordered: no arrival
    assert y.fill_fraction == 0


def _record(seed: int, fingerprint: tuple[tuple[int, str, str], ...]) -> RunRecord:
    return RunRecord("s", "p", seed, "SUCCEEDED", (), 1.0, 1, 1, 1, None, fingerprint, 0.1)


def test_paths_identical_compares_runs_of_a_seed_over_their_common_steps() -> None:
    short = ((0, "1", "2"), (1, "1", "3"))
    longer = (*short, (2, "2", "3"))
    assert paths_identical([_record(0, short), _record(0, longer), _record(1, ((0, "5", "6"),))])
    diverged = ((0, "1", "2"), (1, "1", "4"))
    assert not paths_identical([_record(0, short), _record(0, diverged)])
