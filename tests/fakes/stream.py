"""A StreamPort over the FakeBroker's book, with the faults a real stream has.

Each ``drain_updates`` first lets the book move as it would between two listings (the fake
broker fills and concludes only when asked), then reports every order whose view changed since
the last drain, as ``trade_updates`` would. Faults: ``duplicate`` (every update twice),
``reorder`` (each update followed by the order's previous, older view), ``silent`` (connected,
nothing delivered), ``down`` (not connected), ``bogus`` (one update for a plan order the broker
does not hold, claiming a fill), ``reconnect_at_drain`` (a reconnection before that drain: the
updates of the gap are lost).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerOrder, OrderStatus, OrderType, Quote, Side
from rebalance_executor.domain.streams import OrderUpdate, StreamHealth
from tests.fakes.broker import FakeBroker


@dataclass
class MirrorStream:
    broker: FakeBroker
    duplicate: bool = False
    reorder: bool = False
    silent: bool = False
    down: bool = False
    bogus: BrokerOrder | None = None
    reconnect_at_drain: int | None = None
    opened: set[str] = field(default_factory=set)
    closed: bool = False
    delivered: int = 0
    _seen: dict[str, BrokerOrder] = field(default_factory=dict)
    _drains: int = 0
    _connects: int = 0
    _last_quote_at: float | None = None
    _news: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def news(self) -> asyncio.Event:
        return self._news

    async def open(self, symbols: Collection[str]) -> None:
        self.opened = set(symbols)
        self._connects = 0 if self.down else 1

    def drain_updates(self) -> Sequence[OrderUpdate]:
        self._drains += 1
        if self.broker.fills:
            self.broker._settle()  # the book moves between ticks, listing or not
        changed = [o for o in self.broker.orders.values() if self._seen.get(o.id) != o]
        before = dict(self._seen)
        self._seen.update({o.id: o for o in changed})
        if self._drains == self.reconnect_at_drain:
            self._connects += 1
            return []
        if self.down or self.silent:
            return []
        updates: list[OrderUpdate] = []
        for order in changed:
            updates.append(self._update(order))
            if self.reorder and order.id in before:
                updates.append(self._update(before[order.id]))
        if self.bogus is not None:
            updates.append(self._update(self.bogus))
            self.bogus = None
        if self.duplicate:
            updates = [u for u in updates for _ in range(2)]
        self.delivered += len(updates)
        return updates

    def _update(self, order: BrokerOrder) -> OrderUpdate:
        event = "fill" if order.status is OrderStatus.FILLED else order.status.value
        now = self.broker.clock.now()
        return OrderUpdate(event=event, order=order, at=now, received_at=now)

    def drain_quotes(self) -> Mapping[str, Quote]:
        if self.down:
            return {}
        now = self.broker.clock.now()
        self._last_quote_at = self.broker.clock.monotonic()
        return {
            s: Quote(symbol=s, bid=b, ask=a, timestamp=now)
            for s, (b, a) in self.broker.quotes.items()
            if s in self.opened
        }

    def health(self) -> StreamHealth:
        up = not self.down
        return StreamHealth(
            trading_connected=up,
            quotes_connected=up,
            trading_connects=self._connects,
            quotes_connects=self._connects,
            last_quote_at=self._last_quote_at,
        )

    async def close(self) -> None:
        self.closed = True


def bogus_fill(client_order_id: str, symbol: str, qty: str, at: datetime) -> BrokerOrder:
    """An order the broker does not hold, carrying a plan's client order id and a fill."""
    return BrokerOrder(
        id="bogus-1",
        client_order_id=client_order_id,
        symbol=symbol,
        side=Side.BUY,
        type=OrderType.MARKET,
        qty=Decimal(qty),
        filled_qty=Decimal(qty),
        filled_avg_price=Decimal(100),
        status=OrderStatus.FILLED,
        submitted_at=at,
    )
