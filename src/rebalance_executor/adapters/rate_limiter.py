"""Client-side async token bucket keeping the account under Alpaca's request rate (SPEC §4.6)."""

from __future__ import annotations

import asyncio

from rebalance_executor.domain.clock import Clock


class TokenBucket:
    """At most ``per_minute`` acquisitions in any 60 s window on ``clock``, bursts included.

    Waiters are served in arrival order (one lock), so a burst of concurrent submits cannot starve
    the polling loop for longer than the bucket needs to refill. Never raises.
    """

    def __init__(self, clock: Clock, per_minute: int, burst: int | None = None) -> None:
        if per_minute < 2:
            raise ValueError("per_minute must be at least 2")
        self._clock = clock
        # A burst keeps short plans fast. The refill rate leaves room for it, so that no 60 s
        # window (burst + refill) ever holds more than ``per_minute`` requests.
        capacity = burst if burst is not None else max(1, min(per_minute // 6, 30))
        if not 0 < capacity < per_minute:
            capacity = max(1, per_minute // 2)
        self._capacity = float(capacity)
        self._rate_per_s = (per_minute - capacity) / 60.0
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
            # The epsilon stops float rounding from asking for an ever-tinier extra sleep.
            while self._tokens < 1.0 - 1e-9:
                await self._clock.sleep((1.0 - self._tokens) / self._rate_per_s)
                self._refill()
            self._tokens -= 1.0
