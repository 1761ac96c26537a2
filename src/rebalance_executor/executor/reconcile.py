"""Reconciliation (SPEC §4.2): rebuild the plan's state from the broker before trading.

The broker cannot filter by client-order-id prefix, so the account's orders since the plan's
timestamp (for the plan's symbols) are listed and filtered here. Earlier attempts' fills count
toward each item; their live orders are cancelled (and the cancels awaited) before anything new
is sized, so nothing is ever worked twice.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerError, BrokerOrder, BrokerPort, Side
from rebalance_executor.domain.clock import Clock
from rebalance_executor.domain.plan import Action, RebalancePlan
from rebalance_executor.executor.ids import parse_client_order_id
from rebalance_executor.executor.sizing import Prior

logger = logging.getLogger(__name__)

# Orders are listed from a little before the plan's timestamp: upstream and broker clocks differ.
LIST_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class PlanOrders:
    """The plan's orders at the broker, by item index, with the next free sequence number."""

    by_item: Mapping[int, tuple[BrokerOrder, ...]]
    next_seq: Mapping[int, int]
    # item index -> why an order carrying its client order id was not adopted
    refused: Mapping[int, str] = dataclasses.field(default_factory=dict)

    def of(self, index: int) -> tuple[BrokerOrder, ...]:
        return self.by_item.get(index, ())

    def live(self) -> list[BrokerOrder]:
        return [o for orders in self.by_item.values() for o in orders if not o.status.is_terminal]

    def prior(self, index: int) -> Prior:
        orders = self.of(index)
        return Prior(
            filled_qty=sum((o.filled_qty for o in orders), Decimal(0)),
            filled_notional=sum(
                (o.filled_qty * o.filled_avg_price for o in orders if o.filled_avg_price),
                Decimal(0),
            ),
            live_unfilled=sum(
                ((o.qty or Decimal(0)) - o.filled_qty for o in orders if not o.status.is_terminal),
                Decimal(0),
            ),
            # oldest first: the first order carried the item's whole size (SPEC §4.2)
            target_qty=orders[0].qty if orders else None,
        )


@dataclass(frozen=True)
class Expected:
    """What an order of one item must look like to be adopted as the item's."""

    symbol: str
    side: Side
    since: datetime


def order_misfit(order: BrokerOrder, *, symbol: str, side: Side, since: datetime) -> str | None:
    """Why ``order`` (found by client order id) is not the item's, or None when it fits: same
    symbol and side, submitted no earlier than ``since`` (the plan's time less a margin)."""
    if order.symbol != symbol:
        return f"symbol {order.symbol} is not {symbol}"
    if order.side is not side:
        return f"side {order.side.value} is not {side.value}"
    if order.submitted_at is None or order.submitted_at < since:
        return f"submitted at {order.submitted_at}, before the plan (from {since})"
    return None


def expected_orders(plan: RebalancePlan, symbols: Mapping[int, str]) -> dict[int, Expected]:
    """The adoption rule of each traded item of ``plan``."""
    since = plan.timestamp - LIST_MARGIN
    return {
        i: Expected(symbol, Side.BUY if plan.items[i].action is Action.BUY else Side.SELL, since)
        for i, symbol in symbols.items()
    }


def group_plan_orders(
    orders: Sequence[BrokerOrder], key: str, expected: Mapping[int, Expected]
) -> PlanOrders:
    """Keep the orders whose client order id carries ``key`` and that fit their item, and the
    replacements of those orders. An order with the item's id that does not fit is recorded as
    refused (its sequence number is still skipped, so no new order reuses its id)."""
    by_item: dict[int, dict[str, BrokerOrder]] = {}
    next_seq: dict[int, int] = {}
    refused: dict[int, str] = {}
    owner: dict[str, int] = {}
    # Oldest first, so an original is seen before the replacement that points at it.
    for order in sorted(orders, key=lambda o: (o.submitted_at is None, o.submitted_at, o.id)):
        parsed = parse_client_order_id(key, order.client_order_id)
        if parsed is not None and parsed[0] in expected:
            index = parsed[0]
            next_seq[index] = max(next_seq.get(index, 0), parsed[1] + 1)
            want = expected[index]
            misfit = order_misfit(order, symbol=want.symbol, side=want.side, since=want.since)
            if misfit is not None:
                refused.setdefault(index, f"order {order.client_order_id} not adopted: {misfit}")
                continue
        elif order.replaces is not None and order.replaces in owner:
            # Replacements carry a broker-chosen client order id; they belong to the original.
            index = owner[order.replaces]
        else:
            continue
        owner[order.id] = index
        by_item.setdefault(index, {})[order.id] = order
    return PlanOrders({i: tuple(o.values()) for i, o in by_item.items()}, next_seq, refused)


async def load_plan_orders(
    broker: BrokerPort, plan: RebalancePlan, key: str, symbols: Mapping[int, str]
) -> PlanOrders:
    """List and group the plan's orders. Raises BrokerError when the broker cannot be read."""
    orders = await broker.list_orders(
        after=plan.timestamp - LIST_MARGIN, symbols=set(symbols.values())
    )
    found = group_plan_orders(orders, key, expected_orders(plan, symbols))
    if found.by_item:
        logger.info(
            "plan_orders_found",
            extra={"plan_id": plan.plan_id, "items": len(found.by_item), "live": len(found.live())},
        )
    return found


async def cancel_stale(
    broker: BrokerPort,
    *,
    clock: Clock,
    plan: RebalancePlan,
    key: str,
    symbols: Mapping[int, str],
    found: PlanOrders,
    budget_s: float,
    poll_s: float,
) -> PlanOrders:
    """Cancel the plan's live orders from earlier attempts and wait (<= ``budget_s``) for the
    cancels to be final; returns the refreshed view. Orders still live after the budget stay in
    the view as live (the working loop then accounts for them). Raises BrokerError on listing
    failure."""
    end = clock.monotonic() + budget_s
    while found.live():
        await cancel_orders(broker, found.live(), log_event="stale_cancel_failed")
        if clock.monotonic() >= end:
            break
        await clock.sleep(poll_s)
        found = await load_plan_orders(broker, plan, key, symbols)
    return found


async def cancel_orders(
    broker: BrokerPort, orders: Iterable[BrokerOrder], *, log_event: str
) -> None:
    """Request cancellation of each order; a refused cancel is logged as ``log_event`` (with
    ``order_id`` and ``error``) and the rest are still tried. Never raises BrokerError."""
    for order in orders:
        try:
            await broker.cancel_order(order.id)
        except BrokerError as exc:
            logger.warning(log_event, extra={"order_id": order.id, "error": str(exc)})
