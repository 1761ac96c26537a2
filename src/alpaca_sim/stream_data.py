"""The market-data stream ``/v2/{feed}`` (``iex``, ``sip``): connect, auth, subscribe, receive.

Protocol (Alpaca's "WebSocket Stream" market-data docs; alpaca-py ``StockDataStream``): on
connect the server sends ``[{"T": "success", "msg": "connected"}]``; the client sends
``{"action": "auth", "key", "secret"}`` and gets ``[{"T": "success", "msg": "authenticated"}]``;
``{"action": "subscribe" | "unsubscribe", "trades", "quotes", "bars"}`` is answered with
the whole current subscription (``{"T": "subscription", "trades", "quotes", "bars",
"updatedBars", "dailyBars", "statuses", "lulds", "corrections", "cancelErrors"}``; trades bring
their ``corrections`` and ``cancelErrors`` along, as on Alpaca). Every message is a list, in
msgpack binary frames when the client sent ``Content-Type: application/msgpack`` (alpaca-py
does), JSON text frames otherwise. Quotes, trades and minute bars are published as the market
steps (``stream_publisher.py``).

Errors (``[{"T": "error", "code", "msg"}]``, Alpaca's table): 400 "invalid syntax", 401 "not
authenticated", 402 "auth failed", 403 "already authenticated", 404 "auth timeout", 405 "symbol
limit exceeded", 406 "connection limit exceeded", 407 "slow client", 409 "insufficient
subscription". Modelled as on Alpaca: one connection per account and feed
(``market_data.stream_connection_limit``, default 1: a second one gets 406 at auth and is
closed); ``/v2/sip`` without the sip entitlement gets 409 at auth and is closed (alpaca-py then
stops); the free plan (no sip entitlement) may subscribe 30 symbols per channel
(``market_data.stream_symbol_limit`` overrides; unlimited with the entitlement), a subscribe
beyond it gets 405 and changes nothing. Channels the simulator does not publish (updatedBars,
dailyBars, statuses, lulds...) are accepted but left out of the echo, as Alpaca leaves out what
it will not send. An
unknown feed is refused at the handshake (HTTP 404).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.websockets import WebSocket

from alpaca_sim.engine import SimEngine
from alpaca_sim.feeds import SERVED_FEEDS, SIP
from alpaca_sim.stream_hub import Codec, StreamConnection, StreamHub, authorized, serve

router = APIRouter()
CHANNELS = ("trades", "quotes", "bars")
ALL_CHANNELS = (
    "trades",
    "quotes",
    "bars",
    "updatedBars",
    "dailyBars",
    "statuses",
    "lulds",
    "corrections",
    "cancelErrors",
)
FREE_PLAN_SYMBOL_LIMIT = 30
WILDCARD = "*"


def error(code: int, msg: str) -> list[dict[str, Any]]:
    return [{"T": "error", "code": code, "msg": msg}]


INVALID_SYNTAX = error(400, "invalid syntax")


class DataSubscription:
    """What one connection listens to, per channel. Read by the publisher on the loop thread."""

    def __init__(self, feed: str) -> None:
        self.feed = feed
        self.symbols: dict[str, set[str]] = {channel: set() for channel in CHANNELS}

    def wants(self, channel: str, symbol: str) -> bool:
        chosen = self.symbols[channel]
        return symbol in chosen or WILDCARD in chosen

    def echo(self) -> list[dict[str, Any]]:
        listed: dict[str, list[str]] = {channel: [] for channel in ALL_CHANNELS}
        for channel in CHANNELS:
            listed[channel] = sorted(self.symbols[channel])
        listed["corrections"] = listed["cancelErrors"] = sorted(self.symbols["trades"])
        return [{"T": "subscription", **listed}]


def _requested(message: dict[str, Any]) -> dict[str, set[str]] | None:
    """The symbols per published channel of a subscribe/unsubscribe; None when malformed."""
    wanted: dict[str, set[str]] = {channel: set() for channel in CHANNELS}
    for channel in ALL_CHANNELS:
        value = message.get(channel)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
            return None
        if channel in wanted:
            wanted[channel] = {s.upper() for s in value}
    return wanted


class _DataSession:
    """One client's protocol state."""

    def __init__(self, connection: StreamConnection, engine: SimEngine, feed: str) -> None:
        self.connection = connection
        self.engine = engine
        self.subscription = DataSubscription(feed)
        connection.subscription = self.subscription

    async def handle(self, raw: str | bytes) -> bool:
        try:
            message = self.connection.codec.decode(raw)
        except ValueError:
            self.connection.reply(INVALID_SYNTAX)
            return True
        action = message.get("action") if isinstance(message, dict) else None
        if action == "auth":
            return self._authenticate(message.get("key"), message.get("secret"))
        if action in ("subscribe", "unsubscribe"):
            if self.connection.api_key is None:
                self.connection.reply(error(401, "not authenticated"))
            else:
                self._change(message, subscribe=action == "subscribe")
            return True
        self.connection.reply(INVALID_SYNTAX)
        return True

    def _authenticate(self, key: Any, secret: Any) -> bool:
        """False (close) after 402 / 406 / 409, as Alpaca ends such connections."""
        if self.connection.api_key is not None:
            self.connection.reply(error(403, "already authenticated"))
            return True
        if not authorized(self.engine, key, secret):
            self.connection.reply(error(402, "auth failed"))
            return False
        spec = self.engine.scenario.market_data
        if self.subscription.feed == SIP and not spec.sip_entitled:
            self.connection.reply(error(409, "insufficient subscription"))
            return False
        if (
            self.connection.hub.count_data(key, self.connection.endpoint)
            >= spec.stream_connection_limit
        ):
            self.connection.reply(error(406, "connection limit exceeded"))
            return False
        self.connection.api_key = key
        self.connection.reply([{"T": "success", "msg": "authenticated"}])
        return True

    def _symbol_limit(self) -> int | None:
        spec = self.engine.scenario.market_data
        if spec.stream_symbol_limit is not None:
            return spec.stream_symbol_limit
        return None if spec.sip_entitled else FREE_PLAN_SYMBOL_LIMIT

    def _change(self, message: dict[str, Any], *, subscribe: bool) -> None:
        wanted = _requested(message)
        if wanted is None:
            self.connection.reply(INVALID_SYNTAX)
            return
        current = self.subscription.symbols
        after = {
            channel: (current[channel] | wanted[channel])
            if subscribe
            else (current[channel] - wanted[channel])
            for channel in CHANNELS
        }
        limit = self._symbol_limit()
        if limit is not None and any(len(symbols) > limit for symbols in after.values()):
            self.connection.reply(error(405, "symbol limit exceeded"))
            return
        self.subscription.symbols = after
        self.connection.hub.on_subscribe(self.subscription)
        self.connection.reply(self.subscription.echo())


@router.websocket("/v2/{feed}")
async def data_stream(websocket: WebSocket, feed: str) -> None:
    hub: StreamHub = websocket.app.state.streams
    if feed not in SERVED_FEEDS:
        await websocket.send_denial_response(
            JSONResponse({"code": 404, "message": "not found"}, status_code=404)
        )
        return
    await websocket.accept()
    endpoint = f"WS /v2/{feed}"
    codec = Codec.for_request(websocket, json_binary=False)
    connection = StreamConnection(
        websocket, hub, endpoint, codec, slow_goodbye=error(407, "slow client")
    )
    session = _DataSession(connection, hub.engine, feed)
    hub.add(connection, trading=False)
    connection.reply([{"T": "success", "msg": "connected"}])
    await serve(connection, session.handle, auth_timeout_goodbye=error(404, "auth timeout"))
