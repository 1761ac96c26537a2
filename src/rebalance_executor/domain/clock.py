"""Time as a port, and the execution deadline derived from it.

The executor never reads the wall clock directly: production uses :class:`SystemClock`; the
simulator and the benchmark pass a clock that runs faster than real time, so schedules written in
seconds stay meaningful in simulated seconds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


class Clock(Protocol):
    """Source of time for the executor. ``now`` is timezone-aware UTC."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


@runtime_checkable
class WakeableClock(Clock, Protocol):
    """A clock whose sleep can end early when news arrives (a stream update)."""

    async def sleep_or_wake(self, seconds: float, wake: asyncio.Event) -> None:
        """Sleep ``seconds``, or less once ``wake`` is set."""
        ...


async def nap(clock: Clock, seconds: float, wake: asyncio.Event | None) -> None:
    """Sleep on ``clock``, ending early when ``wake`` is set and the clock can wake; a clock
    that cannot (a test's virtual clock) sleeps the whole time, which is only slower."""
    if wake is not None and isinstance(clock, WakeableClock):
        await clock.sleep_or_wake(seconds, wake)
    else:
        await clock.sleep(seconds)


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_or_wake(self, seconds: float, wake: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(wake.wait(), timeout=max(0.0, seconds))
        except TimeoutError:
            return


class BudgetTooSmallError(ValueError):
    """The invocation has less time left than the reserve plus a minimum working window."""


@dataclass(frozen=True)
class Deadline:
    """When trading must stop, on a given clock.

    ``stop_at`` is the last moment a new order may be sent; ``hard_at`` is when the result must
    already be written (the Lambda's own timeout minus a safety margin). Between the two lies the
    wind-down reserve: cancel live orders, read final fills, write S3 and DynamoDB.
    """

    clock: Clock
    started_at: float
    stop_at: float
    hard_at: float

    @classmethod
    def from_remaining(
        cls,
        clock: Clock,
        remaining_s: float,
        reserve_s: float,
        safety_margin_s: float = 1.0,
        min_working_s: float = 2.0,
    ) -> Deadline:
        """Derive a deadline from the invocation's remaining time.

        Raises BudgetTooSmallError when fewer than ``min_working_s`` seconds would be left for
        trading after the reserve.
        """
        start = clock.monotonic()
        hard = start + remaining_s - safety_margin_s
        stop = hard - reserve_s
        if stop - start < min_working_s:
            raise BudgetTooSmallError(
                f"remaining time {remaining_s:.1f}s leaves less than {min_working_s:.1f}s "
                f"after the {reserve_s:.1f}s wind-down reserve"
            )
        return cls(clock=clock, started_at=start, stop_at=stop, hard_at=hard)

    def remaining_trading_s(self) -> float:
        """Seconds until no new order may be sent (never negative)."""
        return max(0.0, self.stop_at - self.clock.monotonic())

    def remaining_total_s(self) -> float:
        """Seconds until the result must be written (never negative)."""
        return max(0.0, self.hard_at - self.clock.monotonic())

    def trading_over(self) -> bool:
        return self.clock.monotonic() >= self.stop_at

    def elapsed_s(self) -> float:
        return self.clock.monotonic() - self.started_at

    def wall_time_of(self, monotonic_at: float) -> datetime:
        """The clock's UTC wall time corresponding to a monotonic reading."""
        return self.clock.now() + timedelta(seconds=monotonic_at - self.clock.monotonic())
