"""Market-data reads of :class:`~rebalance_executor.adapters.alpaca_broker.AlpacaBroker` (quotes,
latest trades, 1-minute bars) over alpaca-py's ``StockHistoricalDataClient``, on the configured
feed. Each read is one multi-symbol request (quotes: one per 200 symbols), sent through the
broker's rate-limited, retried transport.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from alpaca.data.enums import DataFeed
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.models import BarSet
from alpaca.data.models import Quote as AlpacaQuote
from alpaca.data.models import Trade as AlpacaTrade
from alpaca.data.requests import StockBarsRequest, StockLatestQuoteRequest, StockLatestTradeRequest
from alpaca.data.timeframe import TimeFrame

from rebalance_executor.adapters import alpaca_mapping as mapping
from rebalance_executor.domain.broker import Bar, Quote, Trade
from rebalance_executor.domain.clock import Clock

M = TypeVar("M")

_QUOTE_CHUNK = 200


def as_model(value: object, cls: type[M]) -> M:
    """Narrow an alpaca-py result (typed ``Model | RawData``); raw data means a wiring bug."""
    if not isinstance(value, cls):
        raise TypeError(f"unexpected alpaca-py response type {type(value).__name__}")
    return value


class Transport(Protocol):
    """The broker's retried, rate-limited call: ``op`` names it in logs and errors."""

    async def __call__(self, op: str, fn: Callable[..., object], *args: Any) -> object: ...


class MarketDataReader:
    """Latest quotes, latest trades and recent bars in domain types."""

    def __init__(
        self, data: StockHistoricalDataClient, feed: DataFeed, call: Transport, clock: Clock
    ) -> None:
        self._data = data
        self._feed = feed
        self._call = call
        self._clock = clock

    async def latest_quotes(self, symbols: Iterable[str]) -> Mapping[str, Quote]:
        """Latest quotes in one request per 200 symbols; symbols without a quote are absent."""
        wanted = sorted(set(symbols))
        out: dict[str, Quote] = {}
        for start in range(0, len(wanted), _QUOTE_CHUNK):
            request = StockLatestQuoteRequest(
                symbol_or_symbols=wanted[start : start + _QUOTE_CHUNK], feed=self._feed
            )
            raw = await self._call("get_latest_quotes", self._data.get_stock_latest_quote, request)
            quotes = {str(k): as_model(v, AlpacaQuote) for k, v in as_model(raw, dict).items()}
            out.update({s: mapping.to_quote(s, q) for s, q in quotes.items()})
        return out

    async def latest_trades(self, symbols: Iterable[str]) -> Mapping[str, Trade]:
        """The latest trade of each symbol (one request); symbols without one are absent."""
        wanted = sorted(set(symbols))
        if not wanted:
            return {}
        request = StockLatestTradeRequest(symbol_or_symbols=wanted, feed=self._feed)
        raw = await self._call("get_latest_trades", self._data.get_stock_latest_trade, request)
        trades = {str(k): as_model(v, AlpacaTrade) for k, v in as_model(raw, dict).items()}
        return {s: mapping.to_trade(s, t) for s, t in trades.items()}

    async def recent_bars(
        self, symbols: Iterable[str], minutes: int
    ) -> Mapping[str, Sequence[Bar]]:
        """1-minute bars of the last ``minutes`` minutes (one request; alpaca-py follows the
        pages), oldest first per symbol; symbols without a bar are absent."""
        wanted = sorted(set(symbols))
        if not wanted:
            return {}
        request = StockBarsRequest(
            symbol_or_symbols=wanted,
            timeframe=TimeFrame.Minute,
            start=self._clock.now() - timedelta(minutes=minutes),
            feed=self._feed,
        )
        raw = as_model(
            await self._call("get_recent_bars", self._data.get_stock_bars, request), BarSet
        )
        return {
            str(symbol): sorted(
                (mapping.to_bar(str(symbol), b) for b in bars), key=lambda b: b.timestamp
            )
            for symbol, bars in raw.data.items()
            if bars
        }
