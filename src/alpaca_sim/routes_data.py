"""Market-data v2 routes: latest quotes, latest trades and bars, per feed (``iex`` / ``sip``).

Unknown symbols are left out of multi-symbol answers (as Alpaca does); a halted symbol keeps
answering with its last quote, whose timestamp goes stale. Feeds, trades and bars are modelled
in ``feeds.py`` and ``history.py``; parameter errors are 400 / 40010000.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from alpaca_sim import history
from alpaca_sim.engine import SimEngine
from alpaca_sim.errors import BAD_REQUEST, ApiError, invalid, not_found
from alpaca_sim.feeds import IEX, check_recent_sip, iex_quote, resolve_feed
from alpaca_sim.market import SymbolMarket
from alpaca_sim.routes_trading import Account, Engine
from alpaca_sim.schemas_data import bar_json, paginate, quote_json, sip_venue, trade_json

router = APIRouter(prefix="/v2/stocks")
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000


def _symbols(text: str) -> list[str]:
    wanted = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not wanted:
        raise invalid("symbols is required")
    return wanted


def _feed(engine: SimEngine, feed: str | None, *, historical: bool = False) -> str:
    entitled = engine.scenario.market_data.sip_entitled
    return resolve_feed(feed, sip_entitled=entitled, historical=historical)


def _quote(engine: SimEngine, market: SymbolMarket, feed: str) -> dict[str, Any]:
    listing = market.spec.exchange
    if feed == IEX:
        quote = iex_quote(
            market, engine.seed, engine.step_s, lambda s: engine.clock.at(s * engine.step_s)
        )
        return quote_json(quote, history.IEX_VENUE, listing)
    return quote_json(market.quote, sip_venue(listing), listing)


def _latest_trade(engine: SimEngine, market: SymbolMarket, feed: str) -> dict[str, Any] | None:
    trade = history.latest_trade(market, engine.seed, feed)
    return trade_json(trade, market.spec.exchange) if trade is not None else None


def _each_symbol(
    engine: SimEngine,
    symbols: str,
    feed: str | None,
    read: Callable[[SimEngine, SymbolMarket, str], dict[str, Any] | None],
) -> dict[str, dict[str, Any]]:
    """``read`` for every known symbol of a multi-symbol request (unknown ones are left out, as
    Alpaca does; so is a symbol ``read`` has nothing for)."""
    wanted = _symbols(symbols)
    with engine.lock:
        source = _feed(engine, feed)
        engine.advance()
        found = {s: read(engine, engine.markets[s], source) for s in wanted if s in engine.markets}
    return {s: body for s, body in found.items() if body is not None}


def _one_symbol(
    engine: SimEngine,
    symbol: str,
    feed: str | None,
    read: Callable[[SimEngine, SymbolMarket, str], dict[str, Any] | None],
    what: str,
) -> dict[str, Any]:
    """``read`` for one symbol. Raises ApiError 404 when the symbol is unknown or ``read`` has
    nothing for it."""
    sym = symbol.upper()
    with engine.lock:
        source = _feed(engine, feed)
        engine.advance()
        market = engine.markets.get(sym)
        body = read(engine, market, source) if market is not None else None
    if body is None:
        raise not_found(f"no {what} found for {sym}")
    return {"symbol": sym, what: body}


@router.get("/quotes/latest")
def latest_quotes(
    engine: Engine, account: Account, symbols: str = "", feed: str | None = None
) -> dict[str, Any]:
    return {"quotes": _each_symbol(engine, symbols, feed, _quote)}


@router.get("/{symbol}/quotes/latest")
def latest_quote(
    symbol: str, engine: Engine, account: Account, feed: str | None = None
) -> dict[str, Any]:
    return _one_symbol(engine, symbol, feed, _quote, "quote")


@router.get("/trades/latest")
def latest_trades(
    engine: Engine, account: Account, symbols: str = "", feed: str | None = None
) -> dict[str, Any]:
    return {"trades": _each_symbol(engine, symbols, feed, _latest_trade)}


@router.get("/{symbol}/trades/latest")
def latest_trade(
    symbol: str, engine: Engine, account: Account, feed: str | None = None
) -> dict[str, Any]:
    return _one_symbol(engine, symbol, feed, _latest_trade, "trade")


def _parse_time(value: str | None, name: str) -> datetime | None:
    """RFC 3339 timestamp or date; naive values are UTC. Raises ApiError 400 when malformed."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, BAD_REQUEST, f"invalid {name}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _bars_page(
    engine: SimEngine,
    wanted: list[str],
    query: dict[str, str | None],
) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Bars of ``wanted`` (sorted by symbol, then time) for one page; raises ApiError 400/403."""
    frame = history.parse_timeframe(query["timeframe"] or "")
    if frame is None:
        raise ApiError(400, BAD_REQUEST, "invalid timeframe")
    limit_text = query["limit"] or str(DEFAULT_LIMIT)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise ApiError(400, BAD_REQUEST, "invalid limit")
    if query["sort"] not in (None, "", "asc", "desc"):
        raise ApiError(400, BAD_REQUEST, "invalid sort")
    start = _parse_time(query["start"], "start")
    end = _parse_time(query["end"], "end")
    with engine.lock:
        source = _feed(engine, query["feed"], historical=True)
        engine.advance()
        now = engine.clock.now()
        end = min(end or now, now)
        check_recent_sip(source, end, now, sip_entitled=engine.scenario.market_data.sip_entitled)
        items: list[tuple[str, history.SimBar]] = []
        for sym in sorted(set(wanted) & engine.markets.keys()):
            trades = [
                t for t in history.trades(engine.markets[sym], engine.seed, source) if t.at <= end
            ]
            bars = [b for b in history.aggregate(trades, frame) if start is None or b.at >= start]
            items.extend((sym, b) for b in (reversed(bars) if query["sort"] == "desc" else bars))
    page, token = paginate(items, query["page_token"], int(limit_text))
    grouped: dict[str, list[dict[str, Any]]] = {}
    for sym, bar in page:
        grouped.setdefault(sym, []).append(bar_json(bar))
    return grouped, token


@router.get("/bars")
def bars(
    *,
    engine: Engine,
    account: Account,
    symbols: str = "",
    timeframe: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: str | None = None,
    page_token: str | None = None,
    feed: str | None = None,
    sort: str | None = None,
) -> dict[str, Any]:
    query = {"timeframe": timeframe, "start": start, "end": end, "limit": limit}
    query |= {"page_token": page_token, "feed": feed, "sort": sort}
    grouped, token = _bars_page(engine, _symbols(symbols), query)
    return {"bars": grouped, "next_page_token": token}


@router.get("/{symbol}/bars")
def symbol_bars(
    *,
    symbol: str,
    engine: Engine,
    account: Account,
    timeframe: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: str | None = None,
    page_token: str | None = None,
    feed: str | None = None,
    sort: str | None = None,
) -> dict[str, Any]:
    sym = symbol.upper()
    query = {"timeframe": timeframe, "start": start, "end": end, "limit": limit}
    query |= {"page_token": page_token, "feed": feed, "sort": sort}
    grouped, token = _bars_page(engine, [sym], query)
    return {"bars": grouped.get(sym, []), "symbol": sym, "next_page_token": token}
