"""HTTP plumbing under alpaca-py: an explicit timeout and no hidden retries (SPEC §4.6)."""

from __future__ import annotations

from typing import Any

import requests
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient


class TimeoutSession(requests.Session):
    """A requests session with a default timeout: alpaca-py passes none, so a hung socket
    would otherwise block a worker thread past the Lambda's deadline."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout_s)
        return super().request(method, url, *args, **kwargs)


def tune_client(client: TradingClient | StockHistoricalDataClient, timeout_s: float) -> None:
    # alpaca-py's retry loop sleeps inside the worker thread, outside our deadline: disable it.
    client._retry = 0
    client._retry_wait = 0
    client._retry_codes = []
    client._session = TimeoutSession(timeout_s)
