"""Run the simulator in-process on a free loopback port (for tests and the benchmark).

Streams: ``RunningSimulator.stream_url`` (``ws://127.0.0.1:<port>``) serves ``/stream``
(alpaca-py ``TradingStream``, ``trade_updates``) and ``/v2/iex`` / ``/v2/sip``
(``StockDataStream``). ``control.stream_clients(api_key)`` lists the open authenticated
connections (``number`` grows with each new one, so a reconnection shows), and
``control.disconnect_streams(api_key)`` drops them now. Stream faults are ``FaultSpec``s:
``control.inject_fault(FaultSpec(endpoint="WS /stream", kind="stream_silent", api_key=KEY))``,
likewise ``stream_disconnect``, ``stream_duplicate``, ``stream_reorder``,
``stream_unknown_order``, ``stream_lag`` (``latency_s`` simulated seconds), with ``count`` /
``probability`` / ``every_nth`` / ``after`` counted per outgoing frame (``faults.py``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import uvicorn

from alpaca_sim.app import SimASGI, create_app
from alpaca_sim.clock import SimClock
from alpaca_sim.control import SimControl
from alpaca_sim.engine import SimEngine
from alpaca_sim.scenario import Scenario

STARTUP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunningSimulator:
    """A simulator serving on ``base_url`` (give it to alpaca-py as ``url_override``)."""

    base_url: str
    clock: SimClock
    control: SimControl
    engine: SimEngine

    @property
    def stream_url(self) -> str:
        """``ws://host:port``: alpaca-py's ``TradingStream(url_override=stream_url + "/stream")``
        and ``StockDataStream(url_override=stream_url + "/v2/iex")`` (or ``/v2/sip``)."""
        return "ws" + self.base_url.removeprefix("http")


@contextmanager
def running_simulator(
    *,
    seed: int = 0,
    scenario: Scenario | Path | None = None,
    time_scale: float = 1.0,
    keys: Mapping[str, str] | None = None,
    start: datetime | None = None,
    step_s: float = 1.0,
    wait_for_stop: bool = True,
) -> Iterator[RunningSimulator]:
    """Start uvicorn in a daemon thread on 127.0.0.1:<free port>; stop it on exit (< 1 s).

    ``start`` is the simulated start time (default: now, UTC); ``step_s`` the simulated seconds
    per quote step (raise it for very large universes at high ``time_scale``).
    ``wait_for_stop=False`` only asks the server to stop and returns at once: uvicorn's shutdown
    spends ~0.15 s in fixed sleeps, which a caller starting many short-lived simulators (the
    benchmark) need not wait for; the server thread then closes its socket and ends by itself.
    Raises RuntimeError when the server does not come up within 10 s, and OSError/ValueError
    for an unreadable or invalid scenario file.
    """
    loaded = Scenario.load(scenario) if isinstance(scenario, Path) else scenario
    engine = SimEngine(
        seed=seed, scenario=loaded, time_scale=time_scale, keys=keys, start=start, step_s=step_s
    )
    app = create_app(engine)
    server, thread, sock = _start_server(app)
    try:
        yield RunningSimulator(
            base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
            clock=engine.clock,
            control=SimControl(engine, app.streams),
            engine=engine,
        )
    finally:
        server.should_exit = True
        if wait_for_stop:
            thread.join(timeout=5)
            sock.close()


def loopback_listener() -> socket.socket:
    """A TCP socket bound to 127.0.0.1:<free port>, for an asyncio server to listen on.

    Created with proto IPPROTO_TCP, not the default 0: asyncio disables Nagle only on accepted
    sockets whose proto says TCP, and with Nagle on, a response body written after its headers
    waits for the client's delayed ACK (~40 ms per request on loopback). Raises OSError when no
    port can be bound.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _start_server(app: SimASGI) -> tuple[uvicorn.Server, threading.Thread, socket.socket]:
    """Bind a free loopback port and serve on it from a daemon thread; wait until it is up.

    Raises RuntimeError when the server does not start within 10 s.
    """
    sock = loopback_listener()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
        lifespan="on",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"alpaca-sim-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("alpaca-sim did not start")
        time.sleep(0.005)
    return server, thread, sock
