"""Alpaca's order lifecycle in simulated time (README "Order lifecycle").

A submitted order is ``pending_new`` (``accepted`` while the market is closed) until it is
acknowledged ``ack_latency_ms`` later; only then can it fill. A cancel puts it in
``pending_cancel`` and a replace puts the old order in ``pending_replace`` for ``pending_ms``;
fills can still land in both windows. When a replace window ends, the old order is ``replaced``
and the replacement acknowledged, unless the old order filled first: then the replacement is
``rejected`` (Alpaca's ``order_replace_rejected``). The ``ideal`` broker does all of this at once.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from alpaca_sim.orders import SimOrder

if TYPE_CHECKING:  # the engine imports this module; it is only a parameter type here
    from alpaca_sim.engine import SimEngine

ACK = "ack"
CANCEL = "cancel"
REPLACE = "replace"
# statuses of an order Alpaca has not routed yet: a cancel takes effect at once
UNROUTED = frozenset({"accepted", "held", "pending_review", "accepted_for_bidding"})


@dataclass(frozen=True, order=True)
class Due:
    """A transition due at ``at_s`` simulated seconds (the clock's monotonic scale)."""

    at_s: float
    seq: int
    kind: str = field(compare=False)
    order_id: str = field(compare=False)


class Lifecycle:
    """Pending transitions, earliest first (ties in scheduling order)."""

    def __init__(self) -> None:
        self._heap: list[Due] = []
        self._seq = 0

    def schedule(self, at_s: float, kind: str, order_id: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Due(at_s, self._seq, kind, order_id))

    def pop_due(self, upto_s: float) -> Due | None:
        if self._heap and self._heap[0].at_s <= upto_s:
            return heapq.heappop(self._heap)
        return None


def run_due(engine: SimEngine, upto_s: float) -> None:
    """Apply every transition due at or before ``upto_s``, each at its own instant."""
    while (due := engine.lifecycle.pop_due(upto_s)) is not None:
        order = engine.orders.get(due.order_id)
        if order is not None:
            _HANDLERS[due.kind](engine, order, engine.clock.at(due.at_s))


def _later(engine: SimEngine, milliseconds: int) -> float:
    return engine.clock.monotonic() + milliseconds / 1000


def submit(engine: SimEngine, order: SimOrder) -> None:
    """Status of a just-stored order, and its acknowledgement (now for the ideal broker)."""
    now = engine.clock.now()
    if not engine.market_open:
        engine.set_status(order, "accepted", now)
    elif engine.broker.ideal:
        _ack(engine, order, now)
    else:
        engine.set_status(order, "pending_new", now)  # stored so; this tells the observers
        engine.lifecycle.schedule(_later(engine, engine.broker.ack_latency_ms), ACK, order.id)


def cancel(engine: SimEngine, order: SimOrder) -> None:
    """Ask to cancel an open order: ``pending_cancel`` for ``pending_ms``, then ``canceled``."""
    now = engine.clock.now()
    if engine.broker.ideal or order.status in UNROUTED:
        engine.close_order(order, "canceled", now)
        return
    if order.status == "pending_cancel":
        return
    engine.set_status(order, "pending_cancel", now)
    engine.lifecycle.schedule(_later(engine, engine.broker.pending_ms), CANCEL, order.id)


def replace(engine: SimEngine, old: SimOrder, new: SimOrder) -> None:
    """Start replacing ``old`` by the stored ``new`` (``pending_new``)."""
    now = engine.clock.now()
    old.replacement = new.id
    if engine.broker.ideal:
        _finish_replace(engine, old, now)
        return
    engine.set_status(old, "pending_replace", now)
    engine.set_status(new, "pending_new", now)  # stored so; this tells the observers
    engine.lifecycle.schedule(_later(engine, engine.broker.pending_ms), REPLACE, old.id)


def _ack(engine: SimEngine, order: SimOrder, at: datetime) -> None:
    if order.status != "pending_new":
        return
    if not engine.market_open:
        engine.set_status(order, "accepted", at)
        return
    engine.set_status(order, "new", at)
    order.taker_pending = True
    engine.match(order.symbol, [], at, event=True)


def _cancel_done(engine: SimEngine, order: SimOrder, at: datetime) -> None:
    if order.status == "pending_cancel":
        engine.close_order(order, "canceled", at)


def _finish_replace(engine: SimEngine, old: SimOrder, at: datetime) -> None:
    new = engine.orders.get(old.replacement or "")
    old.replacement = None
    if new is None:
        return
    if old.status not in ("pending_replace", "new", "partially_filled"):
        # the old order filled (or ended) before the replacement reached the venue
        if new.is_open:
            engine.close_order(new, "rejected", at)
        return
    old.replaced_by = new.id
    engine.close_order(old, "replaced", at)
    _ack(engine, new, at)


_HANDLERS: dict[str, Callable[[SimEngine, SimOrder, datetime], None]] = {
    ACK: _ack,
    CANCEL: _cancel_done,
    REPLACE: _finish_replace,
}


def close_session(engine: SimEngine, at: datetime) -> None:
    """The regular session ends: open DAY orders expire and the market closes."""
    for order in list(engine.open_orders.values()):
        if order.time_in_force == "day":
            engine.close_order(order, "expired", at)
    engine.market_open = False
