"""The ``trade_updates`` events (alpaca-behaviour.md row 14), made from the engine's own changes.

:class:`TradeUpdates` is an engine observer: every status change and every fill is turned into
Alpaca's message, built under the engine lock at the instant of the change (so the order in it is
exactly what REST returns at that instant) and offered to the owning account's listeners.

Event per change (Alpaca's streaming docs, "trade_updates"):

* a status change to ``pending_new``, ``new``, ``canceled``, ``expired``, ``done_for_day``,
  ``replaced``, ``rejected``, ``stopped``, ``pending_cancel``, ``pending_replace``,
  ``calculated`` or ``suspended`` — the event of that name;
* an execution — ``fill`` when it completes the order, else ``partial_fill``, with the fill's own
  ``price`` and ``qty``, the account's ``position_qty`` after it and an ``execution_id``, while
  the order's ``filled_qty`` is cumulative (Alpaca-API #103); a fill inside a pending cancel or
  replace window is a ``partial_fill`` of an order whose status stays pending;
* an order completed without an execution (``force_status``, a notional order's sub-share dust)
  — ``fill`` / ``partial_fill`` without execution fields;
* a replacement rejected because the old order filled first — ``rejected`` for the replacement
  and ``order_replace_rejected`` for the original (now ``filled``) order;
* an order that fills completely while its cancel is pending — its ``fill``, then
  ``order_cancel_rejected``.

``accepted``, ``held``, ``pending_review`` and ``accepted_for_bidding`` have no event in Alpaca's
list: those changes are not streamed (the order is seen at its next streamed change or in REST).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from alpaca_sim import schemas
from alpaca_sim.engine import FillRecord, SimEngine
from alpaca_sim.orders import SimOrder
from alpaca_sim.stream_hub import StreamHub

TRADE_UPDATES = "trade_updates"
# statuses whose change is streamed as the event of the same name
SAME_NAME_EVENTS = frozenset(
    {
        "pending_new",
        "new",
        "canceled",
        "expired",
        "done_for_day",
        "replaced",
        "rejected",
        "stopped",
        "pending_cancel",
        "pending_replace",
        "calculated",
        "suspended",
    }
)
EXECUTION_NS = uuid.UUID("5d0e6c1b-8f0a-4b7e-9c3d-7a2e4f6b8c90")
# SimOrder.extra keys (per-order stream bookkeeping)
_REPORTED = "stream_reported_qty"
_CANCEL_REJECTED = "stream_cancel_rejected"


def _ts(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


class TradeUpdates:
    """Engine observer that streams each order change to its account's listeners."""

    def __init__(self, engine: SimEngine, hub: StreamHub) -> None:
        self._engine = engine
        self._hub = hub

    def status_changed(self, order: SimOrder, previous: str, at: datetime) -> None:
        status = order.status
        if status in ("filled", "partially_filled"):
            if previous == "pending_cancel" and status == "filled":
                order.extra[_CANCEL_REJECTED] = True
            if order.filled_qty > order.extra.get(_REPORTED, Decimal(0)):
                return  # an execution: ``filled`` reports it
            self._publish(order, "fill" if status == "filled" else "partial_fill", at)
            self._cancel_rejected(order, at)
        elif status in SAME_NAME_EVENTS:
            self._publish(order, status, at)
            original = self._engine.orders.get(order.replaces or "")
            if status == "rejected" and original is not None:
                self._publish(original, "order_replace_rejected", at)

    def filled(self, order: SimOrder, fill: FillRecord) -> None:
        order.extra[_REPORTED] = order.filled_qty
        holding = self._engine.account(order.api_key).holdings.get(order.symbol)
        execution = {
            "execution_id": str(uuid.uuid5(EXECUTION_NS, f"{order.id}:{_num(order.filled_qty)}")),
            "price": _num(fill.price),
            "qty": _num(fill.qty),
            "position_qty": _num(holding.qty) if holding is not None else "0",
        }
        event = "fill" if order.status == "filled" else "partial_fill"
        self._publish(order, event, fill.at, execution)
        self._cancel_rejected(order, fill.at)

    def _cancel_rejected(self, order: SimOrder, at: datetime) -> None:
        if order.extra.pop(_CANCEL_REJECTED, False):
            self._publish(order, "order_cancel_rejected", at)

    def _publish(
        self, order: SimOrder, event: str, at: datetime, execution: dict[str, str] | None = None
    ) -> None:
        listeners = self._hub.trading_listeners(order.api_key)
        if not listeners:
            return
        data: dict[str, Any] = {"event": event, "timestamp": _ts(at), **(execution or {})}
        data["order"] = schemas.order_json(order)
        message = {"stream": TRADE_UPDATES, "data": data}
        for connection in listeners:
            connection.offer(message)
