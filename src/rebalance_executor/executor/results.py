"""ExecutionResult assembly: per-item results from broker-reported fills, the plan status
(SPEC §3.3) and transaction cost analysis (SPEC §8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerOrder, Quote, Side
from rebalance_executor.domain.plan import Action, PlanItem
from rebalance_executor.domain.result import (
    ExecutionStatus,
    ItemOutcome,
    ItemResult,
    OrderRecord,
    Reason,
    TcaSummary,
)
from rebalance_executor.executor.sizing import Sized
from rebalance_executor.executor.state import ItemState

BPS = Decimal(10_000)
_CENT_BPS = Decimal("0.01")
# §3.3: an item is filled when its unfilled remainder is within max($1, 0.5% of its notional).
TOLERANCE_ABS = Decimal(1)
TOLERANCE_REL = Decimal("0.005")
# Not-traded reasons that mean "nothing to do" rather than "failed to do it".
NOTHING_TO_DO = frozenset({Reason.BELOW_MIN_NOTIONAL, Reason.NO_POSITION})


def tolerance(planned_qty: Decimal, price: Decimal) -> Decimal:
    """§3.3: max($1, 0.5% of the planned notional)."""
    return max(TOLERANCE_ABS, TOLERANCE_REL * planned_qty * price)


def within_tolerance(planned_qty: Decimal, filled_qty: Decimal, price: Decimal) -> bool:
    """True when the unfilled remainder is worth at most the §3.3 tolerance."""
    return (planned_qty - filled_qty) * price <= tolerance(planned_qty, price)


def overfilled(planned_qty: Decimal, filled_qty: Decimal, price: Decimal) -> bool:
    """True when fills exceed the plan by more than the §3.3 tolerance (a §4.10 violation)."""
    return (filled_qty - planned_qty) * price > tolerance(planned_qty, price)


def slippage_bps(side: Side, avg_fill: Decimal, arrival_mid: Decimal) -> Decimal:
    """``side x (avg_fill - arrival_mid) / arrival_mid x 10⁴``; positive is a cost."""
    sign = 1 if side is Side.BUY else -1
    return (sign * (avg_fill - arrival_mid) / arrival_mid * BPS).quantize(_CENT_BPS)


def _planned_notional(item: PlanItem, sized: Sized | None) -> Decimal:
    if item.is_liquidation and sized is not None and sized.ref_price is not None:
        return sized.planned_notional
    return abs(item.trade_amount)


def _order_record(state: ItemState, order: BrokerOrder) -> OrderRecord:
    return OrderRecord(
        client_order_id=order.client_order_id,
        broker_order_id=order.id,
        side=order.side,
        type=order.type,
        qty=order.qty,
        limit_prices=tuple(state.limit_history.get(order.id, ())),
        status=order.status,
        filled_qty=order.filled_qty,
        filled_avg_price=order.filled_avg_price,
        submitted_at=order.submitted_at,
        updated_at=order.updated_at,
        replaces=order.replaces,
    )


def untraded_result(
    index: int,
    item: PlanItem,
    sized: Sized | None,
    *,
    dry_run: bool = False,
    reason: Reason | None = None,
) -> ItemResult:
    """An item no order was sent for: HOLD, a not-traded reason, or a dry-run intention.
    ``reason`` applies when sizing gave none (e.g. the plan was rejected by a cap)."""
    if item.action is Action.HOLD:
        outcome, reason = ItemOutcome.HOLD, None
    elif dry_run and sized is not None and sized.reason is None:
        outcome, reason = ItemOutcome.DRY_RUN, None
    else:
        outcome = ItemOutcome.NOT_TRADED
        reason = sized.reason if sized is not None and sized.reason is not None else reason
    quote = sized.quote if sized else None
    two_sided = quote is not None and quote.is_two_sided
    return ItemResult(
        index=index,
        symbol=item.symbol,
        action=item.action,
        outcome=outcome,
        reason=reason,
        reason_detail=sized.detail if sized else None,
        planned_notional=_planned_notional(item, sized) if item.action is not Action.HOLD else 0,
        planned_qty=sized.planned_qty if sized else Decimal(0),
        arrival_quote=quote,
        arrival_mid=quote.mid if quote is not None and two_sided else None,
        reference=sized.reference if sized else None,
    )


def item_outcome(state: ItemState, filled: Decimal) -> ItemOutcome:
    """The outcome of a worked item given its filled quantity."""
    if overfilled(state.planned_qty, filled, state.ref_price):
        return ItemOutcome.OVERFILLED
    if filled > 0 and within_tolerance(state.planned_qty, filled, state.ref_price):
        return ItemOutcome.FILLED
    if filled > 0:
        return ItemOutcome.PARTIAL
    return ItemOutcome.NOT_FILLED if state.orders else ItemOutcome.NOT_TRADED


def _broker_times(
    orders: Sequence[BrokerOrder], state: ItemState
) -> tuple[datetime | None, datetime | None]:
    """(first submission, last fill) as the broker reported them; our clock as a fallback."""
    submitted = [o.submitted_at for o in orders if o.submitted_at is not None]
    fills = [o.filled_at or o.updated_at for o in orders if o.filled_qty > 0]
    started = min(submitted) if submitted else state.started_at
    completed = max((t for t in fills if t is not None), default=None)
    if completed is None and any(o.filled_qty > 0 for o in orders):
        completed = state.completed_at
    return started, completed


def traded_result(state: ItemState, sized: Sized) -> ItemResult:
    """An item that was worked: everything from the broker's reported fills."""
    filled, notional = state.filled_qty, state.filled_notional
    avg = notional / filled if filled > 0 else None
    arrival: Quote | None = state.arrival_quote or state.quote
    # A one-sided arrival quote has no mid: the item's reference (a checked trade) stands in.
    two_sided = arrival is not None and arrival.is_two_sided
    arrival_mid = arrival.mid if arrival is not None and two_sided else state.ref_price
    outcome = item_outcome(state, filled)
    if outcome is ItemOutcome.OVERFILLED:
        reason: Reason | None = Reason.OVERFILL
        detail: str | None = f"broker filled {filled} against {state.planned_qty} planned"
    elif outcome is ItemOutcome.FILLED:
        reason, detail = None, None
    else:
        reason, detail = state.reason or Reason.DEADLINE, state.detail
    orders = sorted(state.orders.values(), key=lambda o: o.client_order_id)
    started, completed = _broker_times(orders, state)
    elapsed = None
    if started is not None and completed is not None:
        elapsed = Decimal(str(round(max(0.0, (completed - started).total_seconds()), 3)))
    return ItemResult(
        index=state.index,
        symbol=state.symbol,
        action=state.item.action,
        outcome=outcome,
        reason=reason,
        reason_detail=detail,
        planned_notional=_planned_notional(state.item, sized),
        planned_qty=state.planned_qty,
        filled_qty=filled,
        filled_notional=notional,
        avg_fill_price=avg,
        arrival_quote=arrival,
        arrival_mid=arrival_mid,
        reference=sized.reference,
        slippage_bps=slippage_bps(state.side, avg, arrival_mid) if avg and arrival_mid else None,
        # uncapped: above 1 means more was bought or sold than planned
        fill_rate=filled / state.planned_qty if state.planned_qty > 0 else Decimal(0),
        started_at=started,
        completed_at=completed,
        time_to_complete_s=elapsed,
        orders_count=len(orders),
        replaces_count=sum(1 for o in orders if o.replaces),
        orders=tuple(_order_record(state, o) for o in orders),
        quote_path=tuple(state.quote_path),
    )


def required(result: ItemResult) -> bool:
    """Items that called for trading (not HOLD, not 'nothing to do')."""
    if result.action is Action.HOLD:
        return False
    return not (result.outcome is ItemOutcome.NOT_TRADED and result.reason in NOTHING_TO_DO)


def classify(items: Sequence[ItemResult]) -> tuple[ExecutionStatus, str | None]:
    """The plan status of SPEC §3.3 for a plan that went through trading."""
    needed = [i for i in items if required(i)]
    if not needed:
        return ExecutionStatus.SKIPPED, "nothing to trade: every item is HOLD or below minimum"
    over = [i.symbol for i in needed if i.outcome is ItemOutcome.OVERFILLED]
    if over:
        # Never SUCCEEDED; PARTIAL, not FAILED: trades happened and FAILED means none filled.
        return ExecutionStatus.PARTIAL, f"over-filled beyond tolerance: {', '.join(over)}"
    if all(i.outcome is ItemOutcome.FILLED for i in needed):
        return ExecutionStatus.SUCCEEDED, None
    unfinished = sorted(
        {(i.reason or Reason.DEADLINE).value for i in needed if i.outcome is not ItemOutcome.FILLED}
    )
    detail = f"unfinished items: {', '.join(unfinished)}"
    if not any(i.filled_qty > 0 for i in needed):
        return ExecutionStatus.FAILED, f"no required item filled; {detail}"
    return ExecutionStatus.PARTIAL, detail


@dataclass(frozen=True)
class RequestStats:
    total: int
    samples: Sequence[tuple[float, int]]


def peak_per_minute(samples: Sequence[tuple[float, int]]) -> int:
    """Largest request-count increase over any 60 s span between samples."""
    peak, lo = 0, 0
    for hi in range(len(samples)):
        while samples[hi][0] - samples[lo][0] > 60.0:
            lo += 1
        peak = max(peak, samples[hi][1] - samples[lo][1])
    return peak


def tca(
    policy: str, items: Sequence[ItemResult], wall_s: float, requests: RequestStats
) -> TcaSummary:
    """Plan-level TCA: notional-weighted slippage, fill rate, wall time, request figures."""
    with_slip = [i for i in items if i.slippage_bps is not None and i.filled_notional > 0]
    weight = sum((i.filled_notional for i in with_slip), Decimal(0))
    slip = (
        (
            sum(
                (
                    i.slippage_bps * i.filled_notional
                    for i in with_slip
                    if i.slippage_bps is not None
                ),
                Decimal(0),
            )
            / weight
        ).quantize(_CENT_BPS)
        if weight > 0
        else None
    )
    needed = [i for i in items if required(i)]
    planned = sum((i.planned_notional for i in needed), Decimal(0))
    filled = sum((i.filled_notional for i in needed), Decimal(0))  # uncapped
    orders = sum(i.orders_count for i in items)
    return TcaSummary(
        policy=policy,
        slippage_bps=slip,
        fill_rate=(filled / planned).quantize(Decimal("0.0001")) if planned > 0 else Decimal(0),
        wall_s=Decimal(str(round(wall_s, 3))),
        requests_total=requests.total,
        requests_per_order=(Decimal(requests.total) / orders).quantize(Decimal("0.01"))
        if orders
        else None,
        peak_requests_per_min=peak_per_minute(requests.samples),
    )
