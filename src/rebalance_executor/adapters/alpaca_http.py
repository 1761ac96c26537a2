"""HTTP plumbing under alpaca-py: an explicit timeout and no hidden retries (SPEC §4.6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient

# Even at the deadline a request gets this long: a cancel or final read must be able to land.
MIN_TIMEOUT_S = 1.0


class TimeoutSession(requests.Session):
    """A requests session with a default timeout: alpaca-py passes none, so a hung socket
    would otherwise block a worker thread past the Lambda's deadline.

    ``budget_s`` (seconds left before the hard deadline, read per request) shortens the timeout
    near the end, so a request started just before the hard stop cannot overrun it by a whole
    ``timeout_s``.
    """

    def __init__(self, timeout_s: float, budget_s: Callable[[], float] | None = None) -> None:
        super().__init__()
        self._timeout_s = timeout_s
        self._budget_s = budget_s

    def current_timeout_s(self) -> float:
        if self._budget_s is None:
            return self._timeout_s
        return min(self._timeout_s, max(MIN_TIMEOUT_S, self._budget_s()))

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.current_timeout_s())
        return super().request(method, url, *args, **kwargs)


def tune_client(
    client: TradingClient | StockHistoricalDataClient,
    timeout_s: float,
    budget_s: Callable[[], float] | None = None,
) -> None:
    # alpaca-py's retry loop sleeps inside the worker thread, outside our deadline: disable it.
    client._retry = 0
    client._retry_wait = 0
    client._retry_codes = []
    client._session = TimeoutSession(timeout_s, budget_s)
