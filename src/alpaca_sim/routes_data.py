"""Market-data v2 routes: latest quotes (multi-symbol and per symbol).

Unknown symbols are left out of the multi-symbol answer (as Alpaca does); a halted symbol keeps
answering with its last quote, whose timestamp goes stale.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from alpaca_sim import schemas
from alpaca_sim.errors import invalid, not_found
from alpaca_sim.routes_trading import Account, Engine

router = APIRouter(prefix="/v2/stocks")


@router.get("/quotes/latest")
def latest_quotes(
    engine: Engine, account: Account, symbols: str = "", feed: str | None = None
) -> dict[str, Any]:
    wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()]
    if not wanted:
        raise invalid("symbols is required")
    with engine.lock:
        engine.advance()
        quotes = {
            s: schemas.quote_json(engine.markets[s].quote) for s in wanted if s in engine.markets
        }
    return {"quotes": quotes}


@router.get("/{symbol}/quotes/latest")
def latest_quote(
    symbol: str, engine: Engine, account: Account, feed: str | None = None
) -> dict[str, Any]:
    sym = symbol.upper()
    with engine.lock:
        engine.advance()
        market = engine.markets.get(sym)
        if market is None:
            raise not_found(f"no quote found for {sym}")
        return {"symbol": sym, "quote": schemas.quote_json(market.quote)}
