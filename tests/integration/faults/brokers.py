"""BrokerPort wrappers for fault and control tests (our own port; alpaca-py stays real).

:class:`InterceptingBroker` calls a hook before every broker call (name, 1-based call number);
the hook may act on the world (flip the kill switch, move the simulated market) or raise.
:func:`crash_at` builds the hook that models a Lambda dying mid-execution: the k-th call raises
:class:`CrashInjected` instead of reaching the broker, so the calls before it really happened
(orders may be live or filled) and nothing after it does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from rebalance_executor.domain.broker import (
    AccountSnapshot,
    Asset,
    Bar,
    BrokerOrder,
    BrokerPort,
    MarketClock,
    OrderRequest,
    Position,
    Quote,
    Trade,
)


class CrashInjected(RuntimeError):  # noqa: N818 - named for what it models, not an error
    """The simulated invocation died here. Not a BrokerError: nothing may handle it as one."""


Hook = Callable[[str, int], None]


def crash_at(k: int) -> Hook:
    """A hook that raises CrashInjected on the k-th broker call and every call after it."""
    if k < 1:
        raise ValueError("k must be >= 1")

    def hook(name: str, number: int) -> None:
        if number >= k:
            raise CrashInjected(f"crash injected at broker call {number} ({name})")

    return hook


class InterceptingBroker:
    """Delegates to ``inner`` after calling ``hook(name, call_number)`` for every async call."""

    def __init__(self, inner: BrokerPort, hook: Hook) -> None:
        self._inner = inner
        self._hook = hook
        self.calls = 0
        self.names: list[str] = []

    def _tick(self, name: str) -> None:
        self.calls += 1
        self.names.append(name)
        self._hook(name, self.calls)

    async def get_account(self) -> AccountSnapshot:
        self._tick("get_account")
        return await self._inner.get_account()

    async def get_clock(self) -> MarketClock:
        self._tick("get_clock")
        return await self._inner.get_clock()

    async def get_assets(self, symbols: Iterable[str]) -> Mapping[str, Asset]:
        self._tick("get_assets")
        return await self._inner.get_assets(symbols)

    async def get_positions(self) -> Mapping[str, Position]:
        self._tick("get_positions")
        return await self._inner.get_positions()

    async def get_latest_quotes(self, symbols: Iterable[str]) -> Mapping[str, Quote]:
        self._tick("get_latest_quotes")
        return await self._inner.get_latest_quotes(symbols)

    async def get_latest_trades(self, symbols: Iterable[str]) -> Mapping[str, Trade]:
        self._tick("get_latest_trades")
        return await self._inner.get_latest_trades(symbols)

    async def get_recent_bars(
        self, symbols: Iterable[str], minutes: int
    ) -> Mapping[str, Sequence[Bar]]:
        self._tick("get_recent_bars")
        return await self._inner.get_recent_bars(symbols, minutes)

    async def list_orders(
        self, *, after: datetime, symbols: Iterable[str] | None = None, open_only: bool = False
    ) -> Sequence[BrokerOrder]:
        self._tick("list_orders")
        return await self._inner.list_orders(after=after, symbols=symbols, open_only=open_only)

    async def get_order(self, order_id: str) -> BrokerOrder:
        self._tick("get_order")
        return await self._inner.get_order(order_id)

    async def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        self._tick("get_order_by_client_id")
        return await self._inner.get_order_by_client_id(client_order_id)

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        self._tick("submit_order")
        return await self._inner.submit_order(request)

    async def cancel_order(self, order_id: str) -> None:
        self._tick("cancel_order")
        await self._inner.cancel_order(order_id)

    def request_count(self) -> int:
        return self._inner.request_count()
