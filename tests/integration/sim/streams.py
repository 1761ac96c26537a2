"""alpaca-py's real ``TradingStream`` / ``StockDataStream`` against a running simulator: each runs
on its own thread (as an application runs it) and hands what it receives to a queue."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from alpaca.data.live.stock import StockDataStream
from alpaca.trading.stream import TradingStream

from alpaca_sim.control import StreamClient
from alpaca_sim.testing import RunningSimulator

WAIT_S = 10.0


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Poll ``check`` every 10 ms; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Received:
    """What a stream's handler got, in arrival order."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        self.seen: list[Any] = []

    async def handler(self, item: Any) -> None:
        self._queue.put(item)

    def next(self, timeout: float = WAIT_S) -> Any:
        """The next item. Raises AssertionError when none arrives within ``timeout``."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no stream message arrived") from None
        self.seen.append(item)
        return item

    def until(self, match: Callable[[Any], bool], timeout: float = WAIT_S) -> Any:
        """The first item (from now on) that ``match``es; the ones before it are kept in seen."""
        deadline = time.monotonic() + timeout
        while True:
            item = self.next(max(0.0, deadline - time.monotonic()))
            if match(item):
                return item

    def quiet(self, seconds: float) -> list[Any]:
        """Everything that arrives within ``seconds`` (for "nothing more arrives" checks)."""
        deadline = time.monotonic() + seconds
        found = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                found.append(self._queue.get(timeout=left))
            except queue.Empty:
                break
        self.seen.extend(found)
        return found


def _clients(running: RunningSimulator, key: str, endpoint: str) -> list[StreamClient]:
    return [c for c in running.control.stream_clients(key) if c.endpoint == endpoint]


@contextmanager
def _on_thread(stream: Any, running: RunningSimulator, key: str) -> Iterator[None]:
    thread = threading.Thread(target=stream.run, name="alpaca-py-stream", daemon=True)
    thread.start()
    try:
        yield
    finally:
        # alpaca-py notices a stop only between receives (5 s apart): close the socket too
        if stream._loop is not None and stream._loop.is_running():
            stream.stop()
        running.control.disconnect_streams(key)
        thread.join(timeout=WAIT_S)


@contextmanager
def trade_updates(
    running: RunningSimulator, key: str, secret: str, *, wait: bool = True
) -> Iterator[Received]:
    """A listening ``TradingStream``; with ``wait`` it returns once the simulator lists it."""
    received = Received()
    stream = TradingStream(key, secret, paper=True, url_override=running.stream_url + "/stream")
    stream.subscribe_trade_updates(received.handler)
    with _on_thread(stream, running, key):
        if wait:
            wait_until(
                lambda: any(c.listening for c in _clients(running, key, "WS /stream")),
                "the trading stream to listen",
            )
        yield received


@contextmanager
def market_data(
    running: RunningSimulator,
    key: str,
    secret: str,
    *,
    feed: str = "sip",
    quotes: tuple[str, ...] = (),
    trades: tuple[str, ...] = (),
    bars: tuple[str, ...] = (),
) -> Iterator[tuple[StockDataStream, Received]]:
    """A ``StockDataStream`` subscribed to ``quotes`` / ``trades`` / ``bars``, once the simulator
    lists the subscription."""
    received = Received()
    stream = StockDataStream(key, secret, url_override=f"{running.stream_url}/v2/{feed}")
    if quotes:
        stream.subscribe_quotes(received.handler, *quotes)
    if trades:
        stream.subscribe_trades(received.handler, *trades)
    if bars:
        stream.subscribe_bars(received.handler, *bars)

    def subscribed() -> bool:
        found = _clients(running, key, f"WS /v2/{feed}")
        return any(
            (c.quotes, c.trades, c.bars) == (frozenset(quotes), frozenset(trades), frozenset(bars))
            for c in found
        )

    with _on_thread(stream, running, key):
        wait_until(subscribed, "the market-data subscription")
        yield stream, received
