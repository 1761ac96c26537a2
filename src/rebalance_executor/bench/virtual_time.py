"""A discrete-event clock for the benchmark: simulated time moves only when the executor waits.

The executor's :class:`~rebalance_executor.domain.clock.Clock` port is satisfied by reading the
simulator's (paused) clock; ``sleep(s)`` advances that clock by ``s`` and replays every simulated
step up to it (quotes, prints, resting fills) before returning. Broker round trips therefore
take no simulated time, so a run is a pure function of (scenario, seed, policy): two runs of one
seed agree order for order, and the benchmark runs as fast as the CPU allows instead of at a
fixed multiple of real time. The price of that: market orders fill at exactly the quote the
executor saw (no latency noise), which favours no policy in expectation.

Streams: the simulator sends stream frames from its own event loop as the engine changes state
(trade updates) or every 50 ms of real time (market data). After each advance ``settle`` waits,
in real time, until the frames of that advance have arrived; a sleep the executor may cut short
on a stream update (``sleep_or_wake``) advances in one-second slices and returns after the
slice that brought one. Real-time delivery makes a streams-on run reproducible only as far as
every frame arrives within the settle wait (it does on an idle machine; under heavy load a late
frame is seen one slice later).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Final

from alpaca_sim.testing import RunningSimulator

# Real seconds between checks while broker calls are still in flight.
_SETTLE_POLL_S: Final = 0.001
# Simulated seconds per slice of a sleep that a stream update may end early: the executor
# notices an update at most this late (simulated), as a real-time loop notices it at once.
WAKE_SLICE_S: Final = 0.5


class SteppedClock:
    """The simulator's clock, advanced by the executor's sleeps (never by real time).

    The simulator's clock must be paused (``control.pause_clock()``) for the whole run; otherwise
    real time would move it too and runs would stop being reproducible. ``busy`` reports broker
    calls still in flight (worker threads): a sleep first lets them reach the simulator, so a
    request sent at simulated time t is served at t even when another coroutine (the rate
    limiter, say) sleeps meanwhile.
    """

    def __init__(
        self,
        sim: RunningSimulator,
        busy: Callable[[], bool] = lambda: False,
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._sim = sim
        self._busy = busy
        # after each advance: let the simulator's stream frames of that advance reach the
        # executor (real time) before it looks (see ``sleep_or_wake``)
        self._settle = settle

    def now(self) -> datetime:
        return self._sim.clock.now()

    def monotonic(self) -> float:
        return self._sim.clock.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Advance simulated time by ``seconds`` (negative or zero: only yield to the loop)."""
        while self._busy():
            await asyncio.sleep(_SETTLE_POLL_S)
        if seconds > 0:
            self._sim.control.advance_time(seconds)
            if self._settle is not None:
                await self._settle()
        await asyncio.sleep(0)

    async def sleep_or_wake(self, seconds: float, wake: asyncio.Event) -> None:
        """Advance in slices of WAKE_SLICE_S, returning after the slice in which a stream
        update arrived (``wake`` set): simulated time moves only in sleeps, so an update can
        only end one between two slices. Each slice settles the streams (``settle``)."""
        remaining = seconds
        while True:
            step = min(WAKE_SLICE_S, remaining)
            await self.sleep(step)
            remaining -= step
            if remaining <= 1e-9 or wake.is_set():
                return
