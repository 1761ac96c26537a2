"""Client-side async token bucket keeping the account under Alpaca's request rate (SPEC §4.6)."""

from __future__ import annotations

import asyncio

from rebalance_executor.domain.clock import Clock


class TokenBucket:
    """At most ``per_minute`` acquisitions per minute on ``clock``, with a burst of ``burst``.

    Waiters are served in arrival order (one lock), so a burst of concurrent submits cannot starve
    the polling loop for longer than the bucket needs to refill. Never raises.
    """

    def __init__(self, clock: Clock, per_minute: int, burst: int | None = None) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self._clock = clock
        self._rate_per_s = per_minute / 60.0
        # A burst of a few seconds' worth keeps short plans fast while the average stays capped.
        self._capacity = float(burst if burst is not None else max(1, min(per_minute // 6, 30)))
        self._tokens = self._capacity
        self._updated = clock.monotonic()
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate_per_s)
        self._updated = now

    def _loop_lock(self) -> asyncio.Lock:
        # A warm Lambda runs each invocation on a fresh event loop; a lock is bound to one loop.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def acquire(self) -> None:
        """Wait until one request may be made."""
        async with self._loop_lock():
            self._refill()
            while self._tokens < 1.0:
                await self._clock.sleep((1.0 - self._tokens) / self._rate_per_s)
                self._refill()
            self._tokens -= 1.0
