"""Timing vs execution and the fill-mechanism mix, from broker fills and the quote path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from alpaca_sim.engine import FillRecord
from alpaca_sim.market import QuoteTick
from rebalance_executor.bench.decompose import (
    decompose,
    execution_by_trigger,
    fill_mix,
    weighted_execution,
    weighted_timing,
)
from rebalance_executor.bench.metrics import (
    ItemMeasure,
    RunRecord,
    measure_items,
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
D = Decimal
TINY = D("1e-18")


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _tick(symbol: str, step: int, bid: str, ask: str) -> QuoteTick:
    return QuoteTick(symbol, step, _at(step), D(bid), D(ask), D(100), D(100))


def _fill(symbol: str, qty: str, price: str, at: float, trigger: str) -> FillRecord:
    """A fill; a buy unless the symbol is Y (the sell item of these tests)."""
    side = "sell" if symbol == "Y" else "buy"
    liquidity = "taker" if trigger == "taker" else "maker"
    return FillRecord("k", "o", "c", symbol, side, D(qty), D(price), liquidity, _at(at), trigger)


def _result(*symbols: tuple[str, str, str]) -> ExecutionResult:
    return ExecutionResult(
        plan_id="p",
        status=ExecutionStatus.SUCCEEDED,
        items=tuple(
            ItemResult(
                index=i,
                symbol=sym,
                action=action,
                outcome=ItemOutcome.FILLED,
                planned_notional=D(1000),
                planned_qty=D(qty),
            )
            for i, (sym, action, qty) in enumerate(symbols)
        ),
        started_at=T0,
        finished_at=_at(60),
    )


def _measured() -> tuple[ItemMeasure, ItemMeasure]:
    """X: a buy filled by all three mechanisms while the mid moved; Y: a sell at the bid."""
    plan = (
        PlanItem.model_validate({"symbol": "X", "action": "BUY", "trade_amount": "1000"}),
        PlanItem.model_validate({"symbol": "Y", "action": "SELL", "trade_amount": "-99"}),
    )
    orders = [
        {"symbol": "X", "submitted_at": _at(1).isoformat()},
        {"symbol": "Y", "submitted_at": _at(2).isoformat()},
    ]
    fills = [
        _fill("X", "3", "100.10", 1, "taker"),  # mid 100: +10 bps execution, 0 timing
        _fill("X", "5", "100.95", 6, "path"),  # mid 101: -5 bps, +100 bps timing
        _fill("X", "2", "99.45", 12, "flow"),  # mid 99.5: -5 bps, -50 bps timing
        _fill("Y", "10", "9.90", 2, "taker"),  # mid 10: +100 bps execution
    ]
    paths = {
        "X": [
            _tick("X", 0, "99.90", "100.10"),
            _tick("X", 5, "100.90", "101.10"),
            _tick("X", 10, "99.40", "99.60"),
        ],
        "Y": [_tick("Y", 0, "9.90", "10.10")],
    }
    x, y = measure_items(
        plan,
        _result(("X", "BUY", "10"), ("Y", "SELL", "10")),
        orders=orders,
        fills=fills,
        quote_paths=paths,
        decision_at=T0,
    )
    return x, y


def test_each_fill_is_split_at_the_mid_it_saw_and_the_parts_sum_to_the_slippage() -> None:
    x, y = _measured()
    assert x.arrival_mid == 100
    assert x.timing_bps == D(40)  # (3 x 0 + 5 x 100 + 2 x -50) / 10
    assert x.execution_bps == D("-0.5")  # (3 x 10 + 5 x -5 + 2 x -5) / 10
    assert x.slippage_bps is not None
    assert x.timing_bps is not None
    assert x.execution_bps is not None
    assert abs(x.timing_bps + x.execution_bps - x.slippage_bps) < TINY
    assert y.timing_bps == 0
    assert y.execution_bps == D(100)  # a sell at the bid pays half of a 200 bps spread
    assert y.slippage_bps == D(100)


def test_the_mechanism_mix_is_a_share_of_filled_notional_with_execution_per_mechanism() -> None:
    x, _ = _measured()
    mix = fill_mix([x])
    assert mix == {"taker": D("0.3"), "path": D("0.5"), "flow": D("0.2")}
    assert execution_by_trigger([x]) == {"taker": D(10), "path": D(-5), "flow": D(-5)}
    assert x.decomposition is not None
    assert sum(p.notional for p in x.decomposition.by_trigger) == x.filled_notional


def test_pooled_figures_are_weighted_by_filled_notional_and_stay_consistent() -> None:
    x, y = _measured()  # $1003.95 at -0.5 bps execution, $99 at +100 bps
    run = RunRecord("s", "p", 0, "SUCCEEDED", (x, y), 60.0, 1, 1, 4, None, (), 0.1)
    execution = weighted_execution([x, y])
    assert execution == (D("1003.95") * D("-0.5") + D(99) * D(100)) / D("1102.95")
    assert run.execution_bps == execution
    timing, slippage = weighted_timing([x, y]), weighted_slippage([x, y])
    assert timing is not None
    assert slippage is not None
    assert abs(timing + execution - slippage) < TINY
    mix, by_trigger = fill_mix([x, y]), execution_by_trigger([x, y])
    assert mix is not None
    assert abs(sum(mix.values(), D(0)) - 1) < TINY
    assert mix["taker"] == (D("0.3") * D("1003.95") + D(99)) / D("1102.95")
    weighted = sum((mix[t] * v for t, v in by_trigger.items() if v is not None), D(0))
    assert abs(weighted - execution) < TINY


def test_nothing_to_split_without_fills_or_arrival_and_unknown_triggers_are_refused() -> None:
    fill = _fill("X", "1", "100", 0, "taker")
    assert decompose(1, None, [(fill, D(100))]) is None
    assert decompose(1, D(100), []) is None
    assert fill_mix([]) is None
    assert weighted_execution([]) is None
    assert execution_by_trigger([]) == {"taker": None, "flow": None, "path": None}
    odd = _fill("X", "1", "100", 0, "auction")
    with pytest.raises(ValueError, match="auction"):
        decompose(1, D(100), [(odd, D(100))])
