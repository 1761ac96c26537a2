"""Trading API v2 routes (the paths alpaca-py's TradingClient calls)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse

from alpaca_sim import schemas, trading
from alpaca_sim.accounts import SimAccount
from alpaca_sim.engine import SimEngine
from alpaca_sim.errors import BAD_REQUEST, ApiError, invalid, not_found
from alpaca_sim.orders import MAX_AMOUNT

router = APIRouter(prefix="/v2")


def engine_of(request: Request) -> SimEngine:
    engine: SimEngine = request.app.state.engine
    return engine


def current_account(
    request: Request,
    key: Annotated[str | None, Header(alias="APCA-API-KEY-ID")] = None,
    secret: Annotated[str | None, Header(alias="APCA-API-SECRET-KEY")] = None,
) -> SimAccount:
    """Raises ApiError 401 for missing or (with a fixed key list) unknown credentials."""
    return engine_of(request).authenticate(key, secret)


Engine = Annotated[SimEngine, Depends(engine_of)]
Account = Annotated[SimAccount, Depends(current_account)]


async def json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (numbers as Decimal). Raises ApiError 400 otherwise."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}", parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, BAD_REQUEST, "request body format is invalid") from exc
    if not isinstance(body, dict):
        raise ApiError(400, BAD_REQUEST, "request body format is invalid")
    return body


def parse_time(value: str | None, name: str) -> datetime | None:
    """RFC 3339 timestamp or date; naive values are UTC. Raises ApiError 422 when malformed."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(f"invalid {name}: {value}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_decimal(value: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        parsed = Decimal(value)
    except InvalidOperation as exc:
        raise invalid(f"invalid {name}") from exc
    if not parsed.is_finite() or parsed <= 0 or parsed >= MAX_AMOUNT:
        raise invalid(f"invalid {name}")
    return parsed


@router.get("/account")
def get_account(engine: Engine, account: Account) -> dict[str, Any]:
    with engine.lock:
        engine.advance()
        return schemas.account_json(engine, account)


@router.get("/clock")
def get_clock(engine: Engine, account: Account) -> dict[str, Any]:
    with engine.lock:
        engine.advance()
        return schemas.clock_json(engine.clock.now(), engine.market_open, engine.session_close)


@router.get("/assets")
def get_assets(
    engine: Engine,
    account: Account,
    status: str | None = None,
    asset_class: str = "us_equity",
    exchange: str | None = None,
) -> list[dict[str, Any]]:
    """Filtered as Alpaca filters (no status: all; asset_class defaults to us_equity). Every
    simulated asset is an active US equity."""
    if status not in (None, "active") or asset_class != "us_equity":
        return []
    return [
        schemas.asset_json(s, spec)
        for s, spec in engine.scenario.symbols.items()
        if exchange is None or spec.exchange == exchange
    ]


@router.get("/assets/{symbol}")
def get_asset(symbol: str, engine: Engine, account: Account) -> dict[str, Any]:
    spec = engine.scenario.symbols.get(symbol.upper())
    if spec is None:
        raise not_found("asset not found")
    return schemas.asset_json(symbol.upper(), spec)


@router.get("/positions")
def get_positions(engine: Engine, account: Account) -> list[dict[str, Any]]:
    with engine.lock:
        engine.advance()
        return [schemas.position_json(engine, account, s) for s in sorted(account.holdings)]


@router.get("/positions/{symbol}")
def get_position(symbol: str, engine: Engine, account: Account) -> dict[str, Any]:
    with engine.lock:
        engine.advance()
        if symbol.upper() not in account.holdings:
            raise not_found("position does not exist")
        return schemas.position_json(engine, account, symbol.upper())


@router.delete("/positions/{symbol}")
def close_position(
    symbol: str,
    engine: Engine,
    account: Account,
    qty: str | None = None,
    percentage: str | None = None,
) -> dict[str, Any]:
    order = trading.close_position(
        engine, account, symbol, parse_decimal(qty, "qty"), parse_decimal(percentage, "percentage")
    )
    return schemas.order_json(order)


@router.delete("/positions")
def close_all_positions(
    engine: Engine, account: Account, cancel_orders: str | None = None
) -> JSONResponse:
    results: list[dict[str, Any]] = []
    with engine.lock:
        if cancel_orders in ("true", "True", "1"):
            trading.cancel_all(engine, account)
        for symbol in sorted(account.holdings):
            try:
                order = trading.close_position(engine, account, symbol)
            except ApiError as exc:
                results.append({"symbol": symbol, "status": exc.status, "body": exc.body()})
                continue
            body = schemas.order_json(order)
            results.append({"symbol": symbol, "status": 200, "order_id": order.id, "body": body})
    return JSONResponse(results, status_code=207)


@router.post("/orders")
async def submit_order(request: Request, engine: Engine, account: Account) -> dict[str, Any]:
    body = await json_body(request)
    return schemas.order_json(trading.submit_order(engine, account, body))


@router.get("/orders")
def list_orders(
    *,
    engine: Engine,
    account: Account,
    status: str = "open",
    limit: str | None = None,
    after: str | None = None,
    until: str | None = None,
    direction: str = "desc",
    symbols: str | None = None,
    side: str | None = None,
    nested: str | None = None,
) -> list[dict[str, Any]]:
    if status not in ("open", "closed", "all") or direction not in ("asc", "desc"):
        raise invalid("invalid status or direction")
    if side is not None and side not in ("buy", "sell"):
        raise invalid("invalid side")
    try:
        size = int(limit) if limit is not None else 50
    except ValueError as exc:
        raise invalid("invalid limit") from exc
    if not 1 <= size <= 500:
        raise invalid("limit must be between 1 and 500")
    wanted = (
        frozenset(s.strip().upper() for s in symbols.split(",") if s.strip()) if symbols else None
    )
    query = trading.OrderQuery(
        status,
        size,
        parse_time(after, "after"),
        parse_time(until, "until"),
        direction,
        wanted,
        side,
    )
    return [schemas.order_json(o) for o in trading.list_orders(engine, account, query)]


@router.get("/orders:by_client_order_id")
def get_by_client_id(engine: Engine, account: Account, client_order_id: str = "") -> dict[str, Any]:
    return schemas.order_json(trading.get_by_client_id(engine, account, client_order_id))


@router.get("/orders/{order_id}")
def get_order(order_id: str, engine: Engine, account: Account) -> dict[str, Any]:
    return schemas.order_json(trading.get_order(engine, account, order_id))


@router.patch("/orders/{order_id}")
async def replace_order(
    order_id: str, request: Request, engine: Engine, account: Account
) -> dict[str, Any]:
    body = await json_body(request)
    return schemas.order_json(trading.replace_order(engine, account, order_id, body))


@router.delete("/orders/{order_id}", status_code=204)
def cancel_order(order_id: str, engine: Engine, account: Account) -> Response:
    trading.cancel_order(engine, account, order_id)
    return Response(status_code=204)


@router.delete("/orders")
def cancel_all(engine: Engine, account: Account) -> JSONResponse:
    canceled = trading.cancel_all(engine, account)
    body = [{"id": o.id, "status": 200, "body": schemas.order_json(o)} for o in canceled]
    return JSONResponse(body, status_code=207)
