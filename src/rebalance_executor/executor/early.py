"""Early exits after reconciliation (SPEC §4.2): an attempt that stops before trading (stale
plan, too little time, blocked account, market closed, kill switch, cap) still owns what earlier
attempts of the plan left at the broker. It cancels their live orders, waits (bounded) for the
cancels to be final, and reports the broker's fills: the status then comes from those fills
(§3.3), never "REJECTED, nothing sent" while the broker holds fills of the plan.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerError, BrokerUnavailableError, Side
from rebalance_executor.domain.plan import Action, RebalancePlan
from rebalance_executor.domain.result import ExecutionResult, ExecutionStatus, Reason
from rebalance_executor.executor.reconcile import PlanOrders, cancel_stale
from rebalance_executor.executor.recorder import Recorder
from rebalance_executor.executor.sizing import Sized, round_qty
from rebalance_executor.executor.state import ItemState

logger = logging.getLogger(__name__)

# Share of the time left until the hard deadline that waiting for cancels may use, and its cap.
_CANCEL_SHARE = 0.5
_CANCEL_MAX_S = 30.0


@dataclass(frozen=True)
class EarlyStop:
    """Why an attempt stops before trading: the plan status when the broker holds nothing of
    the plan, the sentence for the result and the reason code for unfinished items."""

    status: ExecutionStatus
    reason: str
    item_reason: Reason


async def stop_early(
    plan: RebalancePlan,
    stop: EarlyStop,
    *,
    found: PlanOrders,
    rec: Recorder,
    symbols: Mapping[int, str],
    key: str,
    poll_s: float,
) -> ExecutionResult:
    """The result of an attempt that stops before trading (see module docstring).

    Raises BrokerUnavailableError when the broker cannot be read while cancelling (the Lambda
    retry reconciles again).
    """
    if not found.by_item:
        return rec.early(stop.status, stop.reason, None, stop.item_reason)
    if found.live():
        found = await _cancel_left_orders(
            plan, found, rec=rec, symbols=symbols, key=key, poll_s=poll_s
        )
    states = {i: _reported_state(plan, i, found, stop) for i in found.by_item}
    sized = {i: Sized(s.planned_qty, s.ref_price, None) for i, s in states.items()}
    for index in symbols.keys() - states.keys():
        sized[index] = Sized(Decimal(0), None, None, stop.item_reason, stop.reason)
    logger.warning(
        "early_stop_with_plan_orders",
        extra={"plan_id": plan.plan_id, "reason": stop.reason, "items": len(states)},
    )
    return rec.stopped(stop.reason, sized, states)


async def _cancel_left_orders(
    plan: RebalancePlan,
    found: PlanOrders,
    *,
    rec: Recorder,
    symbols: Mapping[int, str],
    key: str,
    poll_s: float,
) -> PlanOrders:
    budget_s = min(_CANCEL_MAX_S, rec.deadline.remaining_total_s() * _CANCEL_SHARE)
    try:
        found = await cancel_stale(
            rec.broker,
            clock=rec.clock,
            plan=plan,
            key=key,
            symbols=symbols,
            found=found,
            budget_s=budget_s,
            poll_s=poll_s,
        )
    except BrokerUnavailableError:
        raise
    except BrokerError as exc:
        raise BrokerUnavailableError(f"early-exit reconciliation failed: {exc}") from exc
    if found.live():
        logger.error(
            "early_stop_orders_still_live",
            extra={"plan_id": plan.plan_id, "orders": [o.id for o in found.live()]},
        )
    return found


def _reported_state(
    plan: RebalancePlan, index: int, found: PlanOrders, stop: EarlyStop
) -> ItemState:
    """An item's state rebuilt from its orders at the broker. Its planned quantity is valued at
    the broker's average fill price (the attempt reads no quote): what was filled plus the
    unspent dollars of the plan item at that price."""
    item = plan.items[index]
    orders = found.of(index)
    prior = found.prior(index)
    limits = [o.limit_price for o in orders if o.limit_price is not None]
    price = prior.filled_notional / prior.filled_qty if prior.filled_qty > 0 else None
    price = price or (max(limits) if limits else None)
    if price is not None and price > 0:
        unspent = max(Decimal(0), abs(item.trade_amount) - prior.filled_notional)
        planned = prior.filled_qty + round_qty(unspent / price, fractionable=True)
    else:
        planned = max((o.qty or Decimal(0) for o in orders), default=Decimal(0))
    state = ItemState(
        index=index,
        item=item,
        side=Side.BUY if item.action is Action.BUY else Side.SELL,
        fractionable=True,
        planned_qty=planned,
        target_qty=planned,
        ref_price=price or Decimal(0),
        quote=None,
        orders={o.id: o for o in orders},
    )
    state.note_reason(stop.item_reason, stop.reason)
    return state
