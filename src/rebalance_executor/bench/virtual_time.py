"""A discrete-event clock for the benchmark: simulated time moves only when the executor waits.

The executor's :class:`~rebalance_executor.domain.clock.Clock` port is satisfied by reading the
simulator's (paused) clock; ``sleep(s)`` advances that clock by ``s`` and replays every simulated
step up to it (quotes, prints, resting fills) before returning. Broker round trips therefore
take no simulated time, so a run is a pure function of (scenario, seed, policy): two runs of one
seed agree order for order, and the benchmark runs as fast as the CPU allows instead of at a
fixed multiple of real time. The price of that: market orders fill at exactly the quote the
executor saw (no latency noise), which favours no policy in expectation.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from alpaca_sim.testing import RunningSimulator


class SteppedClock:
    """The simulator's clock, advanced by the executor's sleeps (never by real time).

    The simulator's clock must be paused (``control.pause_clock()``) for the whole run; otherwise
    real time would move it too and runs would stop being reproducible.
    """

    def __init__(self, sim: RunningSimulator) -> None:
        self._sim = sim

    def now(self) -> datetime:
        return self._sim.clock.now()

    def monotonic(self) -> float:
        return self._sim.clock.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Advance simulated time by ``seconds`` (negative or zero: only yield to the loop)."""
        if seconds > 0:
            self._sim.control.advance_time(seconds)
        await asyncio.sleep(0)
