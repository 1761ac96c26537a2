"""The streams port: Alpaca's ``trade_updates`` and market-data quotes as they happen (SPEC §4.6).

Streams are a faster view, never the source of truth: the executor reconciles with REST listings
at start and end, confirms what a stream leaves ambiguous by a listing, and falls back to polling
while a stream is down, silent or lagging. Events may arrive duplicated or out of order: an
event carries the order's cumulative ``filled_qty`` (never a delta to add), so the consumer keeps
the largest it has seen per order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from rebalance_executor.domain.broker import BrokerOrder, Frozen, Quote


class OrderUpdate(Frozen):
    """One ``trade_updates`` event: its name (``new``, ``fill``, ``partial_fill``, ``canceled``,
    ``order_cancel_rejected``...), the order as the broker saw it then, and for a fill the
    execution's own qty and price."""

    event: str
    order: BrokerOrder
    at: datetime  # the broker's time of the event
    received_at: datetime  # when it arrived here (on the executor's clock): at + the lag
    fill_qty: Decimal | None = None
    fill_price: Decimal | None = None


class StreamHealth(Frozen):
    """What the adapter knows of its connections. ``*_connects`` count successful
    (re)connections: a rise means events may have been missed while it was down (a gap).
    ``last_*_at`` are monotonic receive times on the executor's clock (None: nothing yet)."""

    trading_connected: bool
    quotes_connected: bool
    trading_connects: int = 0
    quotes_connects: int = 0
    last_update_at: float | None = None
    last_quote_at: float | None = None


class StreamPort(Protocol):
    """Alpaca's trading stream (``trade_updates``) and quote stream for a set of symbols."""

    @property
    def news(self) -> asyncio.Event:
        """Set when an order update arrives (quotes do not set it); the consumer clears it."""
        ...

    async def open(self, symbols: Collection[str]) -> None:
        """Connect both streams and subscribe to ``symbols``' quotes, waiting a bounded time for
        the connections. Never raises: a stream that cannot connect shows in :meth:`health`."""
        ...

    def drain_updates(self) -> Sequence[OrderUpdate]:
        """Order updates received since the last call, in arrival order."""
        ...

    def drain_quotes(self) -> Mapping[str, Quote]:
        """The latest quote per symbol received since the last call."""
        ...

    def health(self) -> StreamHealth: ...

    async def close(self) -> None:
        """Disconnect both streams (idempotent; never raises)."""
        ...
