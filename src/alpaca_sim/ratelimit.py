"""Alpaca's trading-API rate limit: ``rate_limit_per_min`` requests per API key per minute.

Alpaca documents 200 requests per minute per key and the ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` headers (Reset: the Unix time when the quota
refills) but not the window; the simulator uses fixed windows aligned to the SIMULATED minute,
so a burst at a minute's end and the next minute's start can reach twice the limit in a minute,
as fixed-window limiters allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WINDOW_S = 60


@dataclass(frozen=True)
class RateDecision:
    """Whether a request is served, and the header values to send with the answer."""

    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset_epoch).encode()),
        ]


class RateLimiter:
    """Counts requests per API key in fixed simulated-minute windows. Not thread-safe: the
    engine's lock guards it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._window: dict[str, int] = {}
        self._count: dict[str, int] = {}

    def hit(self, api_key: str, now: datetime) -> RateDecision:
        """Count one request of ``api_key`` at ``now`` (refused ones count too)."""
        window = int(now.timestamp()) // WINDOW_S
        if self._window.get(api_key) != window:
            self._window[api_key] = window
            self._count[api_key] = 0
        self._count[api_key] += 1
        used = self._count[api_key]
        return RateDecision(
            allowed=used <= self.limit,
            limit=self.limit,
            remaining=max(0, self.limit - used),
            reset_epoch=(window + 1) * WINDOW_S,
        )
