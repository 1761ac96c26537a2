"""Publishes quotes and trades to the market-data stream connections as the market steps.

Every ``PUBLISH_S`` of real time the publisher reads, under the engine lock, what the market has
recorded since it last looked — the same state REST serves, so a quote or trade on the stream is
never newer than what ``/v2/stocks/.../latest`` returns right after:

* ``sip`` quotes: every new NBBO in the market's quote history (each step's quote and each forced
  ``set_quote``; a frozen or halted quote does not change and is not re-sent);
* ``iex`` quotes: the iex view (``feeds.iex_quote``) whenever it differs from the last one sent —
  IEX refreshes about once a second, goes quiet for spells and can be one-sided;
* trades: every new print of the tape (``history.live_trades``); ``iex`` sees only the IEX
  venue's (``V``) prints, as on REST;
* bars: each minute bar of the feed's trades once its minute is over (the bars REST returns for
  ``1Min``; a minute without trades has none).

Nothing is replayed on subscribe (Alpaca sends no snapshot): a symbol's first message is its next
change. Messages are batched per connection (a list per frame, as Alpaca sends them).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from alpaca_sim import history
from alpaca_sim.engine import SimEngine
from alpaca_sim.feeds import IEX, iex_quote
from alpaca_sim.market import QuoteTick, SymbolMarket, TradePrint
from alpaca_sim.schemas_data import bar_json, quote_json, sip_venue, trade_json
from alpaca_sim.stream_data import WILDCARD, DataSubscription
from alpaca_sim.stream_hub import StreamHub

PUBLISH_S = 0.05
MINUTE = timedelta(minutes=1)
T = TypeVar("T")
Key = tuple[str, str, str]  # (feed, channel, symbol)


def since(items: deque[T], last: T) -> list[T]:
    """The items appended after ``last`` (identity); only the newest when ``last`` is gone."""
    found: list[T] = []
    for item in reversed(items):
        if item is last:
            found.reverse()
            return found
        found.append(item)
    return [items[-1]] if items else []


class MarketDataPublisher:
    """Cursors into the market's records, per (feed, channel, symbol) someone listens to."""

    def __init__(self, engine: SimEngine, hub: StreamHub) -> None:
        self._engine = engine
        self._hub = hub
        # key -> (the market object it was read from, the last item sent)
        self._cursors: dict[Key, tuple[SymbolMarket, Any]] = {}
        hub.on_subscribe = self.track

    def track(self, subscription: DataSubscription) -> None:
        """Start following a subscription's new symbols from now (called on the loop thread
        when it changes, so a step right after the answer is published)."""
        wanted = self._wanted([subscription])
        with self._engine.lock:
            for key in wanted - self._cursors.keys():
                self._read(key)

    def publish(self) -> None:
        """Offer every connection what changed for its subscription since the last call."""
        connections = [c for c in self._hub.data_connections() if c.subscription is not None]
        wanted = self._wanted(c.subscription for c in connections if c.subscription is not None)
        self._cursors = {key: cursor for key, cursor in self._cursors.items() if key in wanted}
        if not wanted:
            return
        with self._engine.lock:
            news = {key: self._read(key) for key in sorted(wanted)}
        for connection in connections:
            subscription = connection.subscription
            assert subscription is not None  # filtered above
            batch = [
                message
                for (feed, channel, symbol), messages in news.items()
                if feed == subscription.feed and subscription.wants(channel, symbol)
                for message in messages
            ]
            if batch:
                connection.offer(batch)

    def _wanted(self, subscriptions: Iterable[DataSubscription]) -> set[Key]:
        markets = self._engine.markets
        wanted: set[Key] = set()
        for subscription in subscriptions:
            for channel, symbols in subscription.symbols.items():
                every = markets.keys() if WILDCARD in symbols else symbols & markets.keys()
                wanted.update((subscription.feed, channel, symbol) for symbol in every)
        return wanted

    def _read(self, key: Key) -> list[dict[str, Any]]:
        feed, channel, symbol = key
        market = self._engine.markets[symbol]
        cursor = self._cursors.get(key)
        if channel == "bars":
            return self._bars(key, market, cursor)
        if channel == "quotes":
            current: Any = self._iex(market) if feed == IEX else market.history[-1]
        else:
            current = market.tape[-1] if market.tape else None
        if cursor is None or cursor[0] is not market or current is None:
            self._cursors[key] = (market, current)
            return []
        last = cursor[1]
        self._cursors[key] = (market, current)
        if channel == "quotes":
            if feed == IEX:
                return [] if current == last else [self._quote_message(market, current, IEX)]
            return [self._quote_message(market, q, feed) for q in since(market.history, last)]
        entries = since(market.tape, last) if last is not None else list(market.tape)
        return self._trade_messages(market, feed, entries)

    def _bars(
        self, key: Key, market: SymbolMarket, cursor: tuple[SymbolMarket, Any] | None
    ) -> list[dict[str, Any]]:
        """The minute bars completed since the cursor's minute (a minute without trades has no
        bar, as on REST and on Alpaca)."""
        minute = self._engine.clock.now().replace(second=0, microsecond=0)
        self._cursors[key] = (market, minute)
        if cursor is None or cursor[0] is not market or cursor[1] >= minute:
            return []
        start: datetime = cursor[1]
        entries = []
        for entry in reversed(market.tape):  # whole steps: a step's prints share its quote
            if entry[0].at < start:
                break
            entries.append(entry)
        entries.reverse()
        trades = [
            t
            for t in history.live_trades(market, self._engine.seed, entries)
            if start <= t.at < minute and (key[0] != IEX or t.venue == history.IEX_VENUE)
        ]
        return [
            {"T": "b", "S": market.symbol, **bar_json(bar), "t": bar.at}
            for bar in history.aggregate(trades, MINUTE)
        ]

    def _iex(self, market: SymbolMarket) -> QuoteTick:
        engine = self._engine
        return iex_quote(
            market, engine.seed, engine.step_s, lambda s: engine.clock.at(s * engine.step_s)
        )

    def _quote_message(self, market: SymbolMarket, quote: QuoteTick, feed: str) -> dict[str, Any]:
        listing = market.spec.exchange
        venue = history.IEX_VENUE if feed == IEX else sip_venue(listing)
        return {"T": "q", "S": market.symbol, **quote_json(quote, venue, listing), "t": quote.at}

    def _trade_messages(
        self, market: SymbolMarket, feed: str, entries: list[tuple[QuoteTick, TradePrint]]
    ) -> list[dict[str, Any]]:
        trades = history.live_trades(market, self._engine.seed, entries)
        listing = market.spec.exchange
        return [
            {"T": "t", "S": market.symbol, **trade_json(trade, listing), "t": trade.at}
            for trade in trades
            if feed != IEX or trade.venue == history.IEX_VENUE
        ]


async def run_publisher(publisher: MarketDataPublisher) -> None:
    """The publishing loop (a task on the server's event loop)."""
    while True:
        await asyncio.sleep(PUBLISH_S)
        publisher.publish()
