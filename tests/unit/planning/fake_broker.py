"""An in-memory BrokerPort (our own domain port) for planner unit tests; records every call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from rebalance_executor.domain.broker import (
    AccountSnapshot,
    Asset,
    BrokerOrder,
    MarketClock,
    OrderRequest,
    Position,
    Quote,
)

NOW = datetime(2026, 11, 2, 20, 45, tzinfo=UTC)


def quote(symbol: str, mid: str, spread: str = "0.02") -> Quote:
    half = Decimal(spread) / 2
    return Quote(symbol=symbol, bid=Decimal(mid) - half, ask=Decimal(mid) + half, timestamp=NOW)


class FakeBroker:
    """Answers reads from fixed data; any write raises (the planner must never write)."""

    def __init__(
        self,
        *,
        equity: str = "100000",
        positions: Mapping[str, str] | None = None,
        prices: Mapping[str, str] | None = None,
        orders: Sequence[BrokerOrder] = (),
        is_open: bool = True,
        untradable: Iterable[str] = (),
        non_fractionable: Iterable[str] = (),
    ) -> None:
        self.prices = dict(prices or {"SPY": "500", "BND": "70", "QQQ": "400", "AAPL": "200"})
        self.equity = Decimal(equity)
        self.cash = Decimal(equity)
        self.positions = {s: Decimal(q) for s, q in (positions or {}).items()}
        self.orders = list(orders)
        self.is_open = is_open
        self.untradable = set(untradable)
        self.non_fractionable = set(non_fractionable)
        self.calls: list[str] = []

    async def get_account(self) -> AccountSnapshot:
        self.calls.append("get_account")
        return AccountSnapshot(
            account_id="acct", equity=self.equity, cash=self.cash, buying_power=self.cash
        )

    async def get_clock(self) -> MarketClock:
        self.calls.append("get_clock")
        return MarketClock(timestamp=NOW, is_open=self.is_open, next_open=NOW)

    async def get_assets(self, symbols: Iterable[str]) -> Mapping[str, Asset]:
        self.calls.append("get_assets")
        return {
            s: Asset(
                symbol=s,
                tradable=s not in self.untradable,
                fractionable=s not in self.non_fractionable,
            )
            for s in symbols
            if s in self.prices
        }

    async def get_positions(self) -> Mapping[str, Position]:
        self.calls.append("get_positions")
        return {
            s: Position(symbol=s, qty=q, market_value=q * Decimal(self.prices[s]))
            for s, q in self.positions.items()
        }

    async def get_latest_quotes(self, symbols: Iterable[str]) -> Mapping[str, Quote]:
        self.calls.append("get_latest_quotes")
        return {s: quote(s, self.prices[s]) for s in symbols if s in self.prices}

    async def list_orders(
        self, *, after: datetime, symbols: Iterable[str] | None = None, open_only: bool = False
    ) -> Sequence[BrokerOrder]:
        self.calls.append("list_orders")
        return [
            o
            for o in self.orders
            if not (open_only and o.status.is_terminal)
            and (o.submitted_at is None or o.submitted_at > after)
        ]

    async def get_order(self, order_id: str) -> BrokerOrder:
        raise AssertionError("planner must not read single orders")

    async def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        raise AssertionError("planner must not read single orders")

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        raise AssertionError("planner must never submit")

    async def replace_order(
        self,
        order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        client_order_id: str | None = None,
    ) -> BrokerOrder:
        raise AssertionError("planner must never replace")

    async def cancel_order(self, order_id: str) -> None:
        raise AssertionError("planner must never cancel")

    def request_count(self) -> int:
        return len(self.calls)
