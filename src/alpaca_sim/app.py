"""The ASGI application: FastAPI routers, Alpaca error bodies, fault injection, request counting.

Why FastAPI + uvicorn: both are widely used and actively maintained, FastAPI's routing and
dependency injection keep each Alpaca path a small typed function, and uvicorn runs in a
background thread of the test process (for fixtures) as well as standalone (``alpaca-sim``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from alpaca_sim import routes_control, routes_data, routes_trading, stream_data, stream_trading
from alpaca_sim.engine import SimEngine
from alpaca_sim.errors import (
    INTERNAL,
    INVALID,
    NOT_FOUND,
    NOT_SENT_YET,
    RATE_LIMITED,
    UNPROCESSABLE,
    ApiError,
)
from alpaca_sim.faults import FaultSpec
from alpaca_sim.ratelimit import RateDecision
from alpaca_sim.stream_hub import StreamHub
from alpaca_sim.stream_publisher import MarketDataPublisher, run_publisher
from alpaca_sim.trade_updates import TradeUpdates

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TICK_S = 0.05
DATA_PREFIX = "/v2/stocks"  # market data: Alpaca serves it from another host, with its own limit
log = logging.getLogger("alpaca_sim")


async def _ticker(engine: SimEngine) -> None:
    """Advance the market every ~50 ms of real time so resting orders fill between requests."""
    while True:
        await asyncio.sleep(TICK_S)
        engine.advance()


def create_fastapi(engine: SimEngine) -> FastAPI:
    """The FastAPI app (without the fault layer)."""

    hub = StreamHub(engine)
    engine.observers.append(TradeUpdates(engine, hub))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(_ticker(engine)),
            asyncio.create_task(run_publisher(MarketDataPublisher(engine, hub))),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(title="alpaca-sim", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.engine = engine
    app.state.streams = hub
    app.include_router(routes_trading.router)
    app.include_router(routes_data.router)
    app.include_router(routes_control.router)
    app.include_router(stream_trading.router)
    app.include_router(stream_data.router)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"code": INVALID, "message": str(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = NOT_FOUND if exc.status_code == 404 else exc.status_code * 100_000
        return JSONResponse({"code": code, "message": str(exc.detail)}, status_code=exc.status_code)

    return app


def endpoint_name(app: FastAPI, scope: Scope) -> str:
    """``"METHOD /route/template"`` for a request (the raw path when no route matches)."""
    method = str(scope.get("method", "GET"))
    partial = None
    for route in _flat_routes(app.router.routes):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return f"{method} {getattr(route, 'path', scope['path'])}"
        if match == Match.PARTIAL and partial is None:
            partial = getattr(route, "path", None)
    return f"{method} {partial or scope['path']}"


def _flat_routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, with included routers expanded (FastAPI >= 0.16x wraps each included router
    in one opaque route whose match carries no template)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat_routes(inner.routes)
        else:
            yield route


class SimASGI:
    """Outermost layer: counts requests per endpoint, applies the trading API's rate limit (with
    its headers on every trading response) and injected faults."""

    def __init__(self, app: FastAPI, engine: SimEngine) -> None:
        self.app = app
        self.engine = engine
        self.streams: StreamHub = app.state.streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith("/sim/"):
            await self.app(scope, receive, send)
            return
        endpoint = endpoint_name(self.app, scope)
        self.engine.record_request(endpoint)
        rate = self._rate(scope)
        if rate is not None:
            send = _with_headers(send, rate.headers())
            if not rate.allowed:
                log.info("rate limited", extra={"endpoint": endpoint})
                await _error(send, 429, RATE_LIMITED, "rate limit exceeded")
                return
        decisive: FaultSpec | None = None
        for fault in self.engine.faults.pick(endpoint):
            if fault.kind == "latency":
                await asyncio.sleep(fault.latency_s / self.engine.clock.time_scale)
            elif decisive is None:
                decisive = fault
        if decisive is None:
            await self.app(scope, receive, send)
            return
        log.info("fault injected", extra={"endpoint": endpoint, "kind": decisive.kind})
        await self._fault(decisive, scope, receive, send)

    async def _fault(self, decisive: FaultSpec, scope: Scope, receive: Receive, send: Send) -> None:
        if decisive.kind == "drop_connection":
            await _cut(send)
        elif decisive.kind == "lost_response":
            await self.app(scope, receive, _discard)
            if decisive.cut_connection:
                await _cut(send)
            else:
                await _error(send, decisive.http_status(), 50410000, "gateway timeout")
        elif decisive.kind == "ambiguous_replace":
            await self.app(scope, receive, _discard)
            await _error(send, 422, UNPROCESSABLE, NOT_SENT_YET)
        elif decisive.kind == "http_429":
            await _error(send, decisive.http_status(), RATE_LIMITED, "rate limit exceeded")
        else:
            await _error(send, decisive.http_status(), INTERNAL, "internal server error")

    def _rate(self, scope: Scope) -> RateDecision | None:
        """The rate-limit decision for a trading request (None: not limited)."""
        path = str(scope["path"])
        limiter = self.engine.rate_limiter
        if limiter is None or not path.startswith("/v2/") or path.startswith(DATA_PREFIX):
            return None
        key = dict(scope.get("headers", [])).get(b"apca-api-key-id", b"").decode("latin-1")
        with self.engine.lock:
            return limiter.hit(key, self.engine.clock.now())


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def _discard(_: Message) -> None:
    return None


async def _error(send: Send, status: int, code: int, message: str) -> None:
    response = JSONResponse({"code": code, "message": message}, status_code=status)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


async def _cut(send: Send) -> None:
    """Promise a body, send part of it and stop: uvicorn closes the connection mid-response."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"id": ', "more_body": True})


def create_app(engine: SimEngine) -> SimASGI:
    """The full ASGI app for uvicorn."""
    return SimASGI(create_fastapi(engine), engine)
