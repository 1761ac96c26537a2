"""``/sim/...`` HTTP control routes: the :class:`~alpaca_sim.control.SimControl` API over HTTP,
for driving a standalone simulator (``alpaca-sim``). Not authenticated; never faulted or counted.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from alpaca_sim.control import SimControl
from alpaca_sim.engine import SimEngine
from alpaca_sim.errors import invalid, not_found
from alpaca_sim.faults import FaultSpec
from alpaca_sim.scenario import Scenario

router = APIRouter(prefix="/sim")


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QuoteBody(_Body):
    symbol: str
    bid: Decimal
    ask: Decimal
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None


class FlagBody(_Body):
    value: bool = True
    symbol: str | None = None


class AccountBody(_Body):
    api_key: str
    cash: Decimal | None = None
    positions: dict[str, Decimal] | None = None
    avg_price: dict[str, Decimal] | None = None
    trading_blocked: bool | None = None
    account_blocked: bool | None = None
    daytrade_count: int | None = None
    pattern_day_trader: bool | None = None


class StatusBody(_Body):
    status: str


class FillBody(_Body):
    qty: Decimal | None = None
    price: Decimal | None = None


def _control(request: Request) -> SimControl:
    engine: SimEngine = request.app.state.engine
    return SimControl(engine, request.app.state.streams)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@router.post("/scenario")
def load_scenario(request: Request, scenario: Scenario) -> dict[str, str]:
    _control(request).load_scenario(scenario)
    return {"status": "ok"}


@router.post("/quote")
def set_quote(request: Request, body: QuoteBody) -> dict[str, Any]:
    try:
        quote = _control(request).set_quote(
            body.symbol, body.bid, body.ask, body.bid_size, body.ask_size
        )
    except KeyError as exc:
        raise not_found(f"unknown symbol {body.symbol}") from exc
    except ValueError as exc:
        raise invalid(str(exc)) from exc
    return dict(_jsonable(asdict(quote)))


@router.post("/freeze")
def freeze(request: Request, body: FlagBody) -> dict[str, str]:
    _control(request).freeze_market(body.value)
    return {"status": "ok"}


@router.post("/halt")
def halt(request: Request, body: FlagBody) -> dict[str, str]:
    if body.symbol is None:
        raise invalid("symbol is required")
    try:
        _control(request).halt(body.symbol, body.value)
    except KeyError as exc:
        raise not_found(f"unknown symbol {body.symbol}") from exc
    return {"status": "ok"}


@router.post("/market")
def set_market_open(request: Request, body: FlagBody) -> dict[str, str]:
    _control(request).set_market_open(body.value)
    return {"status": "ok"}


@router.post("/account")
def set_account(request: Request, body: AccountBody) -> dict[str, str]:
    try:
        _control(request).set_account(
            body.api_key,
            cash=body.cash,
            positions=body.positions,
            avg_price=body.avg_price,
            trading_blocked=body.trading_blocked,
            account_blocked=body.account_blocked,
            daytrade_count=body.daytrade_count,
            pattern_day_trader=body.pattern_day_trader,
        )
    except KeyError as exc:
        raise invalid(f"unknown symbol {exc}") from exc
    return {"status": "ok"}


@router.get("/account/{api_key}")
def account_state(request: Request, api_key: str) -> dict[str, Any]:
    return dict(_jsonable(asdict(_control(request).account_state(api_key))))


@router.post("/faults")
def inject_fault(request: Request, spec: FaultSpec) -> dict[str, str]:
    _control(request).inject_fault(spec)
    return {"status": "ok"}


@router.delete("/faults")
def clear_faults(request: Request) -> dict[str, str]:
    _control(request).clear_faults()
    return {"status": "ok"}


@router.get("/streams")
def stream_clients(request: Request, api_key: str | None = None) -> list[Any]:
    return [
        {
            "number": c.number,
            "endpoint": c.endpoint,
            "api_key": c.api_key,
            "listening": c.listening,
            "quotes": sorted(c.quotes) if c.quotes is not None else None,
            "trades": sorted(c.trades) if c.trades is not None else None,
            "bars": sorted(c.bars) if c.bars is not None else None,
        }
        for c in _control(request).stream_clients(api_key)
    ]


@router.post("/streams/disconnect")
def disconnect_streams(request: Request, api_key: str | None = None) -> dict[str, int]:
    return {"disconnected": _control(request).disconnect_streams(api_key)}


@router.get("/orders")
def orders(request: Request, api_key: str | None = None) -> list[dict[str, Any]]:
    return _control(request).orders(api_key)


@router.post("/orders/{order_id}/status")
def force_status(request: Request, order_id: str, body: StatusBody) -> dict[str, str]:
    try:
        _control(request).force_status(order_id, body.status)
    except KeyError as exc:
        raise not_found(f"unknown order {order_id}") from exc
    except ValueError as exc:
        raise invalid(str(exc)) from exc
    return {"status": "ok"}


@router.post("/orders/{order_id}/fill")
def force_fill(request: Request, order_id: str, body: FillBody) -> dict[str, str]:
    try:
        _control(request).force_fill(order_id, body.qty, body.price)
    except KeyError as exc:
        raise not_found(f"unknown order {order_id}") from exc
    except ValueError as exc:
        raise invalid(str(exc)) from exc
    return {"status": "ok"}


@router.get("/fills")
def fills(request: Request, api_key: str | None = None) -> list[Any]:
    return list(_jsonable([asdict(f) for f in _control(request).fills(api_key)]))


@router.get("/requests")
def requests(request: Request) -> dict[str, Any]:
    control = _control(request)
    return {
        "total": control.total_requests(),
        "by_endpoint": control.request_counts(),
        "by_minute": _jsonable(control.requests_by_minute()),
    }


@router.get("/quotes/{symbol}")
def quote_path(request: Request, symbol: str) -> list[Any]:
    try:
        path = _control(request).quote_path(symbol.upper())
    except KeyError as exc:
        raise not_found(f"unknown symbol {symbol}") from exc
    return list(_jsonable([asdict(q) for q in path]))
