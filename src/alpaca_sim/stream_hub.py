"""Websocket connections of the simulator's streams: codecs, thread-safe delivery, stream faults.

The engine changes state under its lock in HTTP worker threads, in the server's event loop (the
ticker) and in the test thread (``control.advance_time``). Whoever produces a message only
*offers* it to a connection: the offer is handed to the event loop with
``call_soon_threadsafe`` (FIFO, so each connection keeps the engine's order) and one writer task
per connection sends it. The engine never waits for a client; a client that falls
``MAX_QUEUED`` frames behind is disconnected (the market-data stream first says 407 "slow
client", as Alpaca does).

Stream faults (``FaultSpec`` kinds ``stream_*``, see ``faults.py``) are decided per outgoing
message, in the writer, so they are seeded and ordered like the HTTP faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgpack
from starlette.websockets import WebSocket, WebSocketDisconnect

from alpaca_sim.engine import SimEngine
from alpaca_sim.errors import ApiError
from alpaca_sim.faults import FaultSpec

if TYPE_CHECKING:  # stream_data imports this module; only a type here
    from alpaca_sim.stream_data import DataSubscription

MAX_QUEUED = 10_000
AUTH_TIMEOUT_S = 10.0  # real seconds a new connection has to authenticate
PHANTOM_NS = uuid.UUID("6f1c2a8e-3d4b-4c51-9a0e-2b7d5e8f9a13")
log = logging.getLogger("alpaca_sim")


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@dataclass(frozen=True)
class Codec:
    """How one connection's frames are encoded: msgpack (binary frames) when the client asked
    for it with ``Content-Type: application/msgpack`` (alpaca-py's data stream does), else JSON
    (in binary frames on the trading stream, text frames on the data stream, as Alpaca sends).
    Timestamps travel as msgpack Timestamps or RFC 3339 strings."""

    msgpack: bool
    json_binary: bool

    @staticmethod
    def for_request(websocket: WebSocket, *, json_binary: bool) -> Codec:
        content_type = websocket.headers.get("content-type", "").lower()
        return Codec(msgpack="msgpack" in content_type, json_binary=json_binary)

    def encode(self, message: Any) -> str | bytes:
        if self.msgpack:
            packed: bytes = msgpack.packb(message, datetime=True)
            return packed
        text = json.dumps(message, default=_json_default, separators=(",", ":"))
        return text.encode() if self.json_binary else text

    def decode(self, raw: str | bytes) -> Any:
        """A client frame (msgpack or JSON, whichever it is). Raises ValueError when neither."""
        if isinstance(raw, bytes) and self.msgpack:
            try:
                return msgpack.unpackb(raw)
            except ValueError as exc:  # msgpack's ExtraData / FormatError / StackError
                raise ValueError("invalid msgpack") from exc
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError("invalid json") from exc


def authorized(engine: SimEngine, key: object, secret: object) -> bool:
    """Whether a stream's credentials open an account (the REST rules: any pair, unless the
    server has a fixed key list)."""
    if not isinstance(key, str) or not isinstance(secret, str):
        return False
    try:
        engine.authenticate(key, secret)
    except ApiError:
        return False
    return True


class _Reply:
    """Outbox item: a protocol answer, sent in order with the events but never faulted."""

    def __init__(self, message: Any) -> None:
        self.message = message


class _Close:
    """Outbox sentinel: close the connection (after an optional last message)."""

    def __init__(self, last: Any, code: int) -> None:
        self.last = last
        self.code = code


class StreamConnection:
    """One accepted websocket. ``offer`` may be called from any thread; everything else runs on
    the server's event loop."""

    def __init__(
        self,
        websocket: WebSocket,
        hub: StreamHub,
        endpoint: str,
        codec: Codec,
        *,
        slow_goodbye: Any = None,
    ) -> None:
        self.websocket = websocket
        self.hub = hub
        self.endpoint = endpoint
        self.codec = codec
        self.number = hub.next_number()  # tells a reconnection from the connection it replaces
        self.api_key: str | None = None
        self.listening = False  # trading stream: listens to trade_updates
        self.subscription: DataSubscription | None = None  # market-data stream
        self.loop = asyncio.get_running_loop()
        self._slow_goodbye = slow_goodbye  # sent to a client that fell behind, before the close
        self._outbox: asyncio.Queue[Any] = asyncio.Queue()
        self._silent = False
        self._held: Any = None
        self._closing = False

    @property
    def closing(self) -> bool:
        return self._closing

    def offer(self, message: Any) -> None:
        """Queue ``message`` for sending (thread-safe, never blocks). Once the server's loop has
        stopped there is nobody to send to: the message is dropped."""
        with contextlib.suppress(RuntimeError):  # "Event loop is closed"
            self.loop.call_soon_threadsafe(self._enqueue, message)

    def _enqueue(self, message: Any) -> None:
        if self._closing:
            return
        if self._outbox.qsize() >= MAX_QUEUED:
            log.warning("stream client too slow", extra={"endpoint": self.endpoint})
            self.close_soon(self._slow_goodbye, code=1008)
            return
        self._outbox.put_nowait(message)

    def close_soon(self, last: Any = None, code: int = 1000) -> None:
        """Close after what is queued (loop thread), sending ``last`` first when given."""
        if not self._closing:
            self._closing = True
            self._outbox.put_nowait(_Close(last, code))

    def reply(self, message: Any) -> None:
        """Queue a protocol answer (authorization, subscription...): it is sent after what is
        already queued and before anything offered later, and no fault touches it."""
        if not self._closing:
            self._outbox.put_nowait(_Reply(message))

    async def _send(self, message: Any) -> None:
        await self.websocket.send(self._frame(message))

    def _frame(self, message: Any) -> dict[str, Any]:
        data = self.codec.encode(message)
        if isinstance(data, bytes):
            return {"type": "websocket.send", "bytes": data}
        return {"type": "websocket.send", "text": data}

    async def receive(self) -> str | bytes | None:
        """The next client frame; None once the client has gone."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    async def write(self) -> None:
        """Send queued messages until the connection closes (the writer task). A client that
        has gone ends it quietly: starlette raises RuntimeError or WebSocketDisconnect on a send
        after the close, uvicorn an OSError when the transport is gone."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                item = await self._outbox.get()
                if isinstance(item, _Close):
                    if item.last is not None:
                        await self._send(item.last)
                    await self.websocket.close(code=item.code)
                    return
                if isinstance(item, _Reply):
                    if not self._silent:
                        await self._send(item.message)
                    continue
                if not await self._deliver(item):
                    return

    async def _deliver(self, message: Any) -> bool:
        """Send one event under the stream faults; False when a fault closed the connection."""
        if self._silent:
            return True  # the socket stays open; nothing is sent any more
        faults = self.hub.engine.faults.pick_stream(self.endpoint, self.api_key)
        kinds = {fault.kind for fault in faults}
        for fault in faults:
            if fault.kind == "stream_lag":
                await asyncio.sleep(fault.latency_s / self.hub.engine.clock.time_scale)
        self._log_faults(faults)
        if "stream_disconnect" in kinds:
            self._closing = True
            await self.websocket.close(code=1011)
            return False
        if "stream_silent" in kinds:
            self._silent = True
            return True
        if "stream_unknown_order" in kinds:
            phantom = self.hub.phantom(message)
            if phantom is not None:
                await self._send(phantom)
        if "stream_reorder" in kinds and self._held is None:
            self._held = message
            return True
        await self._send(message)
        if "stream_duplicate" in kinds:
            await self._send(message)
        if self._held is not None:
            held, self._held = self._held, None
            await self._send(held)
        return True

    def _log_faults(self, faults: list[FaultSpec]) -> None:
        for fault in faults:
            log.info("stream fault injected", extra={"endpoint": self.endpoint, "kind": fault.kind})


class StreamHub:
    """Every open stream connection, by kind; the engine's observers publish through it."""

    def __init__(self, engine: SimEngine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._trading: set[StreamConnection] = set()
        self._data: set[StreamConnection] = set()
        self._numbers = 0
        self._phantoms = random.Random(f"{engine.seed}:stream-phantom")
        # the market-data publisher follows a subscription from the moment it changes
        self.on_subscribe: Callable[[DataSubscription], None] = lambda _: None

    def next_number(self) -> int:
        with self._lock:
            self._numbers += 1
            return self._numbers

    def add(self, connection: StreamConnection, *, trading: bool) -> None:
        with self._lock:
            (self._trading if trading else self._data).add(connection)

    def remove(self, connection: StreamConnection) -> None:
        with self._lock:
            self._trading.discard(connection)
            self._data.discard(connection)

    def trading_listeners(self, api_key: str) -> list[StreamConnection]:
        with self._lock:
            return [c for c in self._trading if c.listening and c.api_key == api_key]

    def data_connections(self) -> list[StreamConnection]:
        with self._lock:
            return [c for c in self._data if c.api_key is not None]

    def count_data(self, api_key: str, endpoint: str) -> int:
        with self._lock:
            return sum(1 for c in self._data if c.api_key == api_key and c.endpoint == endpoint)

    def connections(self) -> list[StreamConnection]:
        """The open connections (not closing), oldest first."""
        with self._lock:
            found = [c for c in (*self._trading, *self._data) if not c.closing]
        return sorted(found, key=lambda c: c.number)

    def disconnect(self, *, api_key: str | None = None) -> int:
        """Close every stream connection (of ``api_key``); returns how many. Thread-safe."""
        with self._lock:
            found = [
                c for c in self._trading | self._data if api_key is None or c.api_key == api_key
            ]
        for connection in found:
            with contextlib.suppress(RuntimeError):  # the server's loop has already stopped
                connection.loop.call_soon_threadsafe(connection.close_soon, None, 1011)
        return len(found)

    def phantom(self, message: Any) -> Any:
        """A copy of a trade_updates event about an order id the broker never issued."""
        if not isinstance(message, dict) or message.get("stream") != "trade_updates":
            return None
        data = dict(message["data"])
        order = dict(data["order"])
        with self._lock:
            order["id"] = str(uuid.UUID(int=self._phantoms.getrandbits(128), version=4))
        order["client_order_id"] = str(uuid.uuid5(PHANTOM_NS, order["id"]))
        data["order"] = order
        return {"stream": "trade_updates", "data": data}


def _close_unless_authenticated(connection: StreamConnection, goodbye: Any) -> None:
    if connection.api_key is None:
        connection.close_soon(goodbye, code=1008)


async def serve(
    connection: StreamConnection,
    handle: Callable[[str | bytes], Awaitable[bool]],
    *,
    auth_timeout_goodbye: Any = None,
) -> None:
    """Run ``handle(frame)`` for each client frame while the writer sends; clean up at the end.

    ``handle`` returns False to end the connection. A connection not authenticated within
    ``AUTH_TIMEOUT_S`` is closed (after ``auth_timeout_goodbye``), as Alpaca drops it.
    """
    writer = asyncio.create_task(connection.write())
    timer = connection.loop.call_later(
        AUTH_TIMEOUT_S, _close_unless_authenticated, connection, auth_timeout_goodbye
    )
    try:
        while (raw := await connection.receive()) is not None:
            if not await handle(raw):
                break
    except WebSocketDisconnect:
        pass
    finally:
        timer.cancel()
        connection.hub.remove(connection)
        if not writer.done():
            connection.close_soon()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(writer, timeout=1.0)
        if not writer.done():
            writer.cancel()
