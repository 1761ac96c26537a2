"""The trading stream ``/stream``: authenticate, listen to ``trade_updates``, receive order events.

Protocol (Alpaca's "Websocket Streaming" docs; alpaca-py ``TradingStream``): the client sends
``{"action": "authenticate", "data": {"key_id", "secret_key"}}`` (the newer ``{"action": "auth",
"key", "secret"}`` is accepted too) and gets ``{"stream": "authorization", "data": {"status":
"authorized", "action": "authenticate"}}``; then ``{"action": "listen", "data": {"streams":
["trade_updates"]}}`` is answered ``{"stream": "listening", "data": {"streams":
["trade_updates"]}}`` (streams that do not exist are left out; an empty list stops the
updates). Events then arrive as ``trade_updates.py`` describes. Frames are JSON in *binary*
frames, as Alpaca's paper ``/stream`` sends them (docs note), or msgpack when the client asked
for it with ``Content-Type: application/msgpack``.

Where the docs are silent (modelling choices): bad keys are answered ``"status":
"unauthorized"`` and the connection is closed; a ``listen`` before authentication is answered
the same way; a frame that is not a known action gets ``{"stream": "error", "data":
{"error_message": "invalid syntax"}}`` and the connection stays; no authentication within
``stream_hub.AUTH_TIMEOUT_S`` closes the connection.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.websockets import WebSocket

from alpaca_sim.engine import SimEngine
from alpaca_sim.stream_hub import Codec, StreamConnection, StreamHub, authorized, serve

router = APIRouter()
ENDPOINT = "WS /stream"
TRADE_UPDATES = "trade_updates"
INVALID = {"stream": "error", "data": {"error_message": "invalid syntax"}}


def _authorization(status: str, action: str) -> dict[str, Any]:
    return {"stream": "authorization", "data": {"status": status, "action": action}}


def _credentials(message: dict[str, Any]) -> tuple[Any, Any]:
    """(key, secret) of an authenticate message in either of Alpaca's two shapes."""
    if message.get("action") == "auth":
        return message.get("key"), message.get("secret")
    data = message.get("data")
    if not isinstance(data, dict):
        return None, None
    return data.get("key_id"), data.get("secret_key")


class _TradingSession:
    """One client's protocol state."""

    def __init__(self, connection: StreamConnection, engine: SimEngine) -> None:
        self.connection = connection
        self.engine = engine

    async def handle(self, raw: str | bytes) -> bool:
        try:
            message = self.connection.codec.decode(raw)
        except ValueError:
            self.connection.reply(INVALID)
            return True
        action = message.get("action") if isinstance(message, dict) else None
        if action in ("authenticate", "auth"):
            return await self._authenticate(*_credentials(message))
        if action == "listen":
            return await self._listen(message.get("data"))
        self.connection.reply(INVALID)
        return True

    async def _authenticate(self, key: Any, secret: Any) -> bool:
        if not authorized(self.engine, key, secret):
            self.connection.reply(_authorization("unauthorized", "authenticate"))
            return False
        self.connection.api_key = key
        self.connection.reply(_authorization("authorized", "authenticate"))
        return True

    async def _listen(self, data: Any) -> bool:
        if self.connection.api_key is None:
            self.connection.reply(_authorization("unauthorized", "listen"))
            return False
        streams = data.get("streams") if isinstance(data, dict) else None
        if not isinstance(streams, list):
            self.connection.reply(INVALID)
            return True
        # the flag and the answer change together on the loop thread: events offered after
        # this line are queued behind the answer
        self.connection.listening = TRADE_UPDATES in streams
        listened = [TRADE_UPDATES] if self.connection.listening else []
        self.connection.reply({"stream": "listening", "data": {"streams": listened}})
        return True


@router.websocket("/stream")
async def trading_stream(websocket: WebSocket) -> None:
    hub: StreamHub = websocket.app.state.streams
    await websocket.accept()
    codec = Codec.for_request(websocket, json_binary=True)
    connection = StreamConnection(websocket, hub, ENDPOINT, codec)
    hub.add(connection, trading=True)
    await serve(connection, _TradingSession(connection, hub.engine).handle)
