"""Market-data v2 JSON shapes (what alpaca-py 0.44 parses) and page tokens.

Prices and sizes are JSON numbers, as Alpaca sends them; timestamps RFC 3339 UTC.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from alpaca_sim.errors import BAD_REQUEST, ApiError
from alpaca_sim.history import SimBar, SimTrade
from alpaca_sim.market import QuoteTick

# Tape by listing exchange: A = NYSE, B = NYSE Arca / other regionals, C = Nasdaq.
TAPES = {"NYSE": "A", "NASDAQ": "C"}
# The exchange letter of each listing venue's quotes on the consolidated feed.
LISTING_VENUES = {"NYSE": "N", "NASDAQ": "Q", "NYSEARCA": "P", "ARCA": "P", "BATS": "Z"}


def _ts(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def tape(listing_exchange: str) -> str:
    return TAPES.get(listing_exchange.upper(), "B")


def quote_json(quote: QuoteTick, venue: str, listing_exchange: str) -> dict[str, Any]:
    """A stock quote; a missing side (iex "no bid"/"no ask") is price 0 and size 0."""
    return {
        "t": _ts(quote.at),
        "bx": venue if quote.bid > 0 else "",
        "bp": float(quote.bid),
        "bs": float(quote.bid_size),
        "ax": venue if quote.ask > 0 else "",
        "ap": float(quote.ask),
        "as": float(quote.ask_size),
        "c": ["R"],
        "z": tape(listing_exchange),
    }


def sip_venue(listing_exchange: str) -> str:
    return LISTING_VENUES.get(listing_exchange.upper(), "P")


def trade_json(trade: SimTrade, listing_exchange: str) -> dict[str, Any]:
    """A stock trade: ``@`` regular sale, plus ``I`` for an odd lot (under 100 shares)."""
    conditions = ["@"] if trade.size >= 100 else ["@", "I"]
    return {
        "t": _ts(trade.at),
        "x": trade.venue,
        "p": float(trade.price),
        "s": float(trade.size),
        "c": conditions,
        "i": trade.trade_id,
        "z": tape(listing_exchange),
    }


def bar_json(bar: SimBar) -> dict[str, Any]:
    return {
        "t": _ts(bar.at),
        "o": float(bar.open),
        "h": float(bar.high),
        "l": float(bar.low),
        "c": float(bar.close),
        "v": float(bar.volume),
        "n": bar.count,
        "vw": float(round(bar.vwap, 6)),
    }


def page_token(symbol: str, at: datetime) -> str:
    """An opaque token naming the first item of the next page."""
    return base64.urlsafe_b64encode(f"{symbol}|{_ts(at)}".encode()).decode()


def read_page_token(token: str) -> tuple[str, datetime]:
    """Raises ApiError 400 for a token this server did not issue."""
    try:
        symbol, _, stamp = base64.urlsafe_b64decode(token.encode()).decode().partition("|")
        return symbol, datetime.fromisoformat(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, BAD_REQUEST, "invalid page token") from exc


def paginate(
    items: Sequence[tuple[str, SimBar]], token: str | None, limit: int
) -> tuple[list[tuple[str, SimBar]], str | None]:
    """One page of (symbol, bar) items sorted by symbol then time, and the next page's token."""
    first = 0
    if token:
        wanted = read_page_token(token)
        first = next((i for i, (s, b) in enumerate(items) if (s, b.at) == wanted), len(items))
    page = list(items[first : first + limit])
    rest = first + limit
    return page, page_token(items[rest][0], items[rest][1].at) if rest < len(items) else None
