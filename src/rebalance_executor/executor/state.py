"""Mutable working state of one plan item while it is traded (owned by one event loop)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerOrder, OrderRequest, Quote, Side
from rebalance_executor.domain.plan import PlanItem
from rebalance_executor.domain.result import PricePoint, QuotePoint, Reason
from rebalance_executor.executor.lifecycle import TERMINAL_SLOTS, Slot, SlotEvent, next_slot

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unresolved:
    """A submit whose outcome is unknown. ``duplicate``: the broker said the id exists, so it is
    only looked up, never re-sent; ``misses``: look-ups that found nothing so far."""

    request: OrderRequest
    duplicate: bool
    misses: int = 0


@dataclass
class ItemState:
    """One BUY/SELL item: every order it ever had (this and earlier attempts) and its target.

    Fill accounting is always ``sum(filled_qty)`` over all of the item's orders, so fills on
    canceled or replaced orders count exactly once and the remainder is never overstated.
    """

    index: int
    item: PlanItem
    side: Side
    fractionable: bool
    planned_qty: Decimal
    target_qty: Decimal
    ref_price: Decimal
    quote: Quote | None
    next_seq: int = 0
    orders: dict[str, BrokerOrder] = field(default_factory=dict)
    slot: Slot = Slot.IDLE
    # set exactly while the slot is SUBMITTING
    unresolved: Unresolved | None = None
    # monotonic time the last cancel was requested (re-requested when it lingers)
    cancel_at: float | None = None
    limit_history: dict[str, list[PricePoint]] = field(default_factory=dict)
    quote_path: list[QuotePoint] = field(default_factory=list)
    arrival_quote: Quote | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    order_placed_at: float | None = None
    # monotonic times of the item's last broker write (submit, cancel) and of the last news of
    # its orders (a stream update or a listing): an item awaiting news that heard nothing for a
    # while means the stream is silent or lagging (executor/streaming.py)
    last_write_at: float | None = None
    last_heard_at: float | None = None
    # monotonic time the policy next wants to decide (inf: not until the item's orders change);
    # 0.0 so a fresh item decides on its first tick
    decide_at: float = 0.0
    repegs: int = 0
    # its completion was shown on the progress sink (each item is shown once)
    reported: bool = False
    reason: Reason | None = None
    detail: str | None = None

    @property
    def symbol(self) -> str:
        return self.item.symbol

    def __post_init__(self) -> None:
        # Orders an earlier attempt left live are cancelled, never worked on (§4.2).
        if self.live_orders:
            self.slot = Slot.CANCELING

    @property
    def done(self) -> bool:
        return self.slot in TERMINAL_SLOTS

    def stop(self, reason: Reason, detail: str) -> None:
        """Send nothing more (earlier fills still count); the loop cancels what is live."""
        logger.warning("item_stopped", extra={"symbol": self.symbol, "reason": reason.value})
        self.note_reason(reason, detail)
        self.target_qty = self.filled_qty

    def fire(self, event: SlotEvent) -> None:
        """Move the slot along the transition table (InvalidTransitionError: a bug)."""
        before = self.slot
        self.slot = next_slot(before, event)
        if self.slot is not before:
            logger.debug(
                "slot_moved",
                extra={"symbol": self.symbol, "from": before.value, "to": self.slot.value},
            )

    def observe(self) -> None:
        """Bring the slot in line with the broker's latest view of the item's orders."""
        if self.slot is Slot.DONE:
            return
        pending = self.unresolved
        if pending is not None:
            coid = pending.request.client_order_id
            if not any(o.client_order_id == coid for o in self.orders.values()):
                return
            self.unresolved = None
            self.fire(SlotEvent.SUBMIT_ACKED)
        self.fire(SlotEvent.SEEN_LIVE if self.live_orders else SlotEvent.ALL_TERMINAL)

    @property
    def filled_qty(self) -> Decimal:
        return sum((o.filled_qty for o in self.orders.values()), Decimal(0))

    @property
    def filled_notional(self) -> Decimal:
        return sum(
            (o.filled_qty * o.filled_avg_price for o in self.orders.values() if o.filled_avg_price),
            Decimal(0),
        )

    @property
    def live_orders(self) -> list[BrokerOrder]:
        return [o for o in self.orders.values() if not o.status.is_terminal]

    @property
    def live_ids(self) -> frozenset[str]:
        return frozenset(o.id for o in self.orders.values() if not o.status.is_terminal)

    @property
    def live_unfilled(self) -> Decimal:
        return sum(((o.qty or Decimal(0)) - o.filled_qty for o in self.live_orders), Decimal(0))

    @property
    def need(self) -> Decimal:
        """Quantity still to fill toward the target (may be <= 0 when done)."""
        return self.target_qty - self.filled_qty

    def record(self, order: BrokerOrder) -> None:
        """Take the broker's latest view of one of this item's orders.

        Fills only grow at the broker: a view with less ``filled_qty`` than one already seen is
        stale (a lagging listing, a late or reordered stream event) and is ignored, as is a live
        view of an order already seen terminal (its fills are final). So duplicated and
        out-of-order views never lower, and never add to, what the item has filled.
        """
        known = self.orders.get(order.id)
        if known is None:
            self.orders[order.id] = order
            return
        if known.status.is_terminal and not order.status.is_terminal:
            logger.warning(
                "order_seen_live_after_terminal",
                extra={"order_id": order.id, "status": order.status.value},
            )
            return
        if order.filled_qty < known.filled_qty:
            logger.info(
                "stale_order_view_ignored",
                extra={"order_id": order.id, "status": order.status.value},
            )
            return
        self.orders[order.id] = order

    def sample_quote(self, quote: Quote | None) -> None:
        """Append the quote to the item's quote path unless it is the one last sampled."""
        if quote is None or quote.bid <= 0 or quote.ask <= 0:
            return
        if self.quote_path and self.quote_path[-1].at == quote.timestamp:
            return
        point = QuotePoint(at=quote.timestamp, bid=quote.bid, ask=quote.ask, mid=quote.mid)
        self.quote_path.append(point)

    def note_reason(self, reason: Reason, detail: str | None = None) -> None:
        """Remember why the item is not (fully) done; the first reason wins."""
        if self.reason is None:
            self.reason, self.detail = reason, detail
