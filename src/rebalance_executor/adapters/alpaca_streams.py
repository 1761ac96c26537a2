"""StreamPort over alpaca-py's ``TradingStream`` (``trade_updates``) and ``StockDataStream``
(quotes), run as tasks on the executor's own event loop.

alpaca-py's ``run()`` calls ``asyncio.run`` (a loop of its own, in a thread); here the streams'
``_run_forever`` coroutines are scheduled on the running loop instead, after every subscription
is registered (subscribing to a running stream blocks on ``run_coroutine_threadsafe(...).result()``
from the loop's own thread: a deadlock). alpaca-py reconnects by itself with backoff; the
subclasses below only observe connections (``_start_ws``) and disconnections (``close``) so the
executor can tell a gap. Trade updates are read raw and mapped with ``order_from_json``, because
alpaca-py's ``Order`` model refuses an order status it does not know (it must read as live).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from alpaca.data.enums import DataFeed
from alpaca.data.live.stock import StockDataStream
from alpaca.data.models import Quote as AlpacaQuote
from alpaca.trading.stream import TradingStream
from pydantic import TypeAdapter, ValidationError
from websockets.exceptions import WebSocketException

from rebalance_executor.adapters import alpaca_mapping as mapping
from rebalance_executor.domain.broker import Quote
from rebalance_executor.domain.clock import Clock
from rebalance_executor.domain.streams import OrderUpdate, StreamHealth

logger = logging.getLogger(__name__)

# How long ``open`` waits (real seconds) for both streams to connect before trading starts
# without them (the executor then polls until they are up).
CONNECT_TIMEOUT_S: Final = 3.0
# websockets' defaults wait 10 s for a close handshake; a Lambda's wind-down cannot.
_WEBSOCKET_PARAMS: Final = {
    "ping_interval": 10,
    "ping_timeout": 180,
    "max_queue": 1024,
    "close_timeout": 1,
}
_TIMESTAMP: Final = TypeAdapter(datetime)
# Feeds alpaca-py's StockDataStream accepts (it refuses the others at construction).
STREAMED_FEEDS: Final = frozenset({"iex", "sip"})


def stream_urls(base_url: str | None, feed: str) -> tuple[str | None, str | None]:
    """The trading and market-data stream URLs for a REST ``base_url`` override (http → ws,
    https → wss; ``/stream`` and ``/v2/{feed}`` as on Alpaca). None: alpaca-py's own
    endpoints (paper or live trading stream, ``stream.data.alpaca.markets/v2/{feed}``)."""
    if base_url is None:
        return None, None
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    root = parts.path.rstrip("/")
    trading = urlunsplit((scheme, parts.netloc, f"{root}/stream", "", ""))
    data = urlunsplit((scheme, parts.netloc, f"{root}/v2/{feed}", "", ""))
    return trading, data


class _Link:
    """One stream's connection state, as the observed stream reports it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.connected = False
        self.connects = 0
        self.up = asyncio.Event()

    def on_up(self) -> None:
        self.connected = True
        self.connects += 1
        self.up.set()
        logger.info("stream_connected", extra={"stream": self.name, "connects": self.connects})

    def on_down(self) -> None:
        if self.connected:
            logger.warning("stream_disconnected", extra={"stream": self.name})
        self.connected = False


class _Observed:
    """Mixed into an alpaca-py stream: tells its link of each connection (``_start_ws``) and
    disconnection (``close``); alpaca-py reconnects by itself."""

    def __init__(self, *args: Any, link: _Link, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._link = link

    async def _start_ws(self) -> None:
        await super()._start_ws()  # type: ignore[misc]
        self._link.on_up()

    async def close(self) -> None:
        self._link.on_down()
        await super().close()  # type: ignore[misc]


class _ObservedTradingStream(_Observed, TradingStream):
    pass


class _ObservedDataStream(_Observed, StockDataStream):
    pass


class AlpacaStreams:
    """:class:`~rebalance_executor.domain.streams.StreamPort` over alpaca-py's streams."""

    def __init__(
        self,
        *,
        api_key: str,
        secret_key: str,
        paper: bool,
        trading_url: str | None,
        data_url: str | None,
        feed: str,
        clock: Clock,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self._clock = clock
        self._connect_timeout_s = connect_timeout_s
        self._trading_link, self._quotes_link = _Link("trading"), _Link("quotes")
        self._trading = _ObservedTradingStream(
            api_key,
            secret_key,
            paper=paper,
            raw_data=True,
            url_override=trading_url,
            websocket_params=dict(_WEBSOCKET_PARAMS),
            link=self._trading_link,
        )
        # alpaca-py streams quotes of the iex and sip feeds only; other feeds are polled
        self._quotes = (
            _ObservedDataStream(
                api_key,
                secret_key,
                feed=DataFeed(feed),
                url_override=data_url,
                websocket_params=dict(_WEBSOCKET_PARAMS),
                link=self._quotes_link,
            )
            if feed in STREAMED_FEEDS
            else None
        )
        self._news = asyncio.Event()
        self._updates: list[OrderUpdate] = []
        self._latest: dict[str, Quote] = {}
        self._last_update_at: float | None = None
        self._last_quote_at: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._received = 0

    @property
    def news(self) -> asyncio.Event:
        return self._news

    @property
    def received(self) -> int:
        """Order updates and quotes received so far (the benchmark waits for them to settle)."""
        return self._received

    async def open(self, symbols: Collection[str]) -> None:
        self._trading.subscribe_trade_updates(self._on_trade_update)
        self._tasks = [
            asyncio.create_task(
                self._trading._run_forever(),  # type: ignore[no-untyped-call]
                name="trading-stream",
            )
        ]
        links = [self._trading_link]
        # alpaca-py's data stream spins (sleep(0)) until it has a subscription: start it only
        # with symbols to quote
        if self._quotes is not None and symbols:
            self._quotes.subscribe_quotes(self._on_quote, *sorted(symbols))
            self._tasks.append(
                asyncio.create_task(self._quotes._run_forever(), name="quote-stream")
            )
            links.append(self._quotes_link)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(link.up.wait() for link in links)), self._connect_timeout_s
            )
        except TimeoutError:
            down = [link.name for link in links if not link.connected]
            logger.warning("streams_not_connected", extra={"streams": down})

    async def _on_trade_update(self, message: dict[str, Any]) -> None:
        self._received += 1
        try:
            update = trade_update(message, received_at=self._clock.now())
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            logger.warning("trade_update_unreadable", extra={"error": str(exc)})
            return
        self._updates.append(update)
        self._last_update_at = self._clock.monotonic()
        self._news.set()

    async def _on_quote(self, quote: AlpacaQuote | dict[Any, Any]) -> None:
        if not isinstance(quote, AlpacaQuote):
            return  # raw data is off for quotes: a dict here would be a wiring bug
        self._received += 1
        symbol = str(quote.symbol)
        self._latest[symbol] = mapping.to_quote(symbol, quote)
        self._last_quote_at = self._clock.monotonic()

    def drain_updates(self) -> Sequence[OrderUpdate]:
        updates, self._updates = self._updates, []
        return updates

    def drain_quotes(self) -> Mapping[str, Quote]:
        quotes, self._latest = self._latest, {}
        return quotes

    def health(self) -> StreamHealth:
        return StreamHealth(
            trading_connected=self._trading_link.connected,
            quotes_connected=self._quotes_link.connected,
            trading_connects=self._trading_link.connects,
            quotes_connects=self._quotes_link.connects,
            last_update_at=self._last_update_at,
            last_quote_at=self._last_quote_at,
        )

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        # both close handshakes at once: each is bounded by close_timeout (1 s)
        closing = [_close_quietly(self._trading)]
        if self._quotes is not None:
            closing.append(_close_quietly(self._quotes))
        await asyncio.gather(*closing)


async def _close_quietly(stream: _ObservedTradingStream | _ObservedDataStream) -> None:
    """Close one stream's socket; a socket that is already broken is closed enough."""
    try:
        await stream.close()
    except (OSError, RuntimeError, WebSocketException) as exc:
        logger.info("stream_close_failed", extra={"error": str(exc)})


def trade_update(message: dict[str, Any], *, received_at: datetime) -> OrderUpdate:
    """A raw ``trade_updates`` message in domain terms; raises on a shape it cannot read."""
    data = message["data"]
    return OrderUpdate(
        event=str(data["event"]),
        order=mapping.order_from_json(data["order"]),
        at=_TIMESTAMP.validate_python(data["timestamp"]).astimezone(UTC),
        received_at=received_at,
        fill_qty=mapping.opt_dec(data.get("qty")),
        fill_price=mapping.opt_dec(data.get("price")),
    )
