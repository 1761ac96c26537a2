"""Simulated time: real elapsed time multiplied by ``time_scale``.

:class:`SimClock` satisfies ``rebalance_executor.domain.clock.Clock`` structurally, so the executor
and the simulator agree on what "now" is even when the simulation runs faster than real time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class SimClock:
    """Simulated time = ``start`` + real elapsed seconds x ``time_scale``.

    ``monotonic()`` returns simulated seconds since the clock was created; ``sleep(s)`` sleeps
    ``s`` simulated seconds (``s / time_scale`` real seconds). Raises ValueError for a
    non-positive time scale.
    """

    def __init__(self, start: datetime | None = None, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._t0 = time.monotonic()
        self._time_scale = time_scale
        self._offset = 0.0
        self._paused_at: float | None = None

    @property
    def time_scale(self) -> float:
        return self._time_scale

    @property
    def start(self) -> datetime:
        return self._start

    def monotonic(self) -> float:
        """Simulated seconds since the clock started."""
        if self._paused_at is not None:
            return self._paused_at
        return (time.monotonic() - self._t0) * self._time_scale + self._offset

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def pause(self) -> None:
        """Stop simulated time (tests: make fills independent of real-time scheduling)."""
        if self._paused_at is None:
            self._paused_at = self.monotonic()

    def resume(self) -> None:
        """Let simulated time run again from where it was paused."""
        if self._paused_at is not None:
            frozen_at = self._paused_at
            self._paused_at = None
            self._offset += frozen_at - self.monotonic()

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward (paused or not). Raises ValueError for negative values."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        if self._paused_at is not None:
            self._paused_at += seconds
        else:
            self._offset += seconds

    def now(self) -> datetime:
        """Simulated wall time, timezone-aware UTC."""
        return self._start + timedelta(seconds=self.monotonic())

    def at(self, sim_seconds: float) -> datetime:
        """The simulated wall time ``sim_seconds`` after the start."""
        return self._start + timedelta(seconds=sim_seconds)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of simulated time."""
        await asyncio.sleep(max(0.0, seconds) / self._time_scale)
