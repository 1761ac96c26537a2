"""Mutable working state of one plan item while it is traded (owned by one event loop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerOrder, OrderRequest, Quote, Side
from rebalance_executor.domain.plan import PlanItem
from rebalance_executor.domain.result import PricePoint, QuotePoint, Reason


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
    prior_order_ids: frozenset[str] = frozenset()
    # order id -> monotonic time the cancel was requested (re-requested when it lingers)
    cancel_requested: dict[str, float] = field(default_factory=dict)
    # a submit whose outcome is unknown: looked up by client order id before anything else
    pending_request: OrderRequest | None = None
    limit_history: dict[str, list[PricePoint]] = field(default_factory=dict)
    # orders we marked terminal ourselves (replaced) whose final fills no listing has shown yet
    unconfirmed: set[str] = field(default_factory=set)
    quote_path: list[QuotePoint] = field(default_factory=list)
    arrival_quote: Quote | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    order_placed_at: float | None = None
    # monotonic time the policy next wants to decide (inf: not until the item's orders change);
    # 0.0 so a fresh item decides on its first tick
    decide_at: float = 0.0
    repegs: int = 0
    done: bool = False
    # its completion was shown on the progress sink (each item is shown once)
    reported: bool = False
    reason: Reason | None = None
    detail: str | None = None

    @property
    def symbol(self) -> str:
        return self.item.symbol

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
        """Take the broker's latest view of one of this item's orders."""
        self.orders[order.id] = order

    def confirm(self, order: BrokerOrder) -> None:
        """Take a listing's view of an order: terminal there means its fills are final."""
        self.record(order)
        if order.status.is_terminal:
            self.unconfirmed.discard(order.id)

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
