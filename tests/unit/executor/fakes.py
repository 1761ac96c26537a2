"""A small in-memory BrokerPort (our own port, not alpaca-py) and a virtual clock for unit tests.

Market orders fill at the touch on the *next* orders listing (so fills are asynchronous, as at a
real broker); ``partial`` caps the fraction of an order that fills per listing.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rebalance_executor.domain.broker import (
    AccountSnapshot,
    AmbiguousSubmitError,
    Asset,
    BrokerOrder,
    BrokerUnavailableError,
    DuplicateClientOrderIdError,
    MarketClock,
    OrderNotFoundError,
    OrderRequest,
    OrderStatus,
    Position,
    Quote,
    Side,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


class VirtualClock:
    """Time that only moves when someone sleeps: tests run instantly and deterministically."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class FakeBroker:
    clock: VirtualClock
    cash: Decimal = Decimal(100_000)
    positions: dict[str, Decimal] = field(default_factory=dict)
    quotes: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    non_fractionable: set[str] = field(default_factory=set)
    market_open: bool = True
    blocked: bool = False
    partial: Decimal = Decimal(1)
    fail_reads: bool = False
    lose_next_submits: int = 0
    orders: dict[str, BrokerOrder] = field(default_factory=dict)
    submits: list[OrderRequest] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    requests: int = 0
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    # --- helpers for tests ----------------------------------------------------------------------
    def quote(self, symbol: str, bid: str, ask: str) -> None:
        self.quotes[symbol] = (Decimal(bid), Decimal(ask))

    def filled(self, symbol: str, side: Side) -> Decimal:
        return sum(
            (o.filled_qty for o in self.orders.values() if o.symbol == symbol and o.side is side),
            Decimal(0),
        )

    def _hit(self) -> None:
        self.requests += 1
        if self.fail_reads:
            raise BrokerUnavailableError("fake broker down")

    def _fill_all(self) -> None:
        for oid, order in list(self.orders.items()):
            if order.status.is_terminal or order.qty is None:
                continue
            bid, ask = self.quotes[order.symbol]
            price = ask if order.side is Side.BUY else bid
            qty = min(
                order.qty - order.filled_qty,
                (order.qty * self.partial).quantize(Decimal("0.000000001")),
            )
            self._apply(order.symbol, order.side, qty, price)
            total = order.filled_qty + qty
            old_notional = order.filled_qty * (order.filled_avg_price or Decimal(0))
            avg = (old_notional + qty * price) / total
            status = OrderStatus.FILLED if total >= order.qty else OrderStatus.PARTIALLY_FILLED
            self.orders[oid] = order.model_copy(
                update={"filled_qty": total, "filled_avg_price": avg, "status": status}
            )
            self.events.append(("fill" if status is OrderStatus.FILLED else "partial", oid))

    def _apply(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> None:
        sign = 1 if side is Side.BUY else -1
        self.positions[symbol] = self.positions.get(symbol, Decimal(0)) + sign * qty
        self.cash -= sign * qty * price

    # --- BrokerPort -----------------------------------------------------------------------------
    async def get_account(self) -> AccountSnapshot:
        self._hit()
        equity = self.cash + sum(
            (q * self.quotes[s][0] for s, q in self.positions.items() if s in self.quotes),
            Decimal(0),
        )
        return AccountSnapshot(
            account_id="fake",
            equity=equity,
            cash=self.cash,
            buying_power=self.cash,
            trading_blocked=self.blocked,
        )

    async def get_clock(self) -> MarketClock:
        self._hit()
        return MarketClock(timestamp=self.clock.now(), is_open=self.market_open)

    async def get_assets(self, symbols: Iterable[str]) -> Mapping[str, Asset]:
        self._hit()
        return {
            s: Asset(symbol=s, tradable=True, fractionable=s not in self.non_fractionable)
            for s in symbols
            if s in self.quotes
        }

    async def get_positions(self) -> Mapping[str, Position]:
        self._hit()
        return {s: Position(symbol=s, qty=q) for s, q in self.positions.items() if q != 0}

    async def get_latest_quotes(self, symbols: Iterable[str]) -> Mapping[str, Quote]:
        self._hit()
        return {
            s: Quote(symbol=s, bid=b, ask=a, timestamp=self.clock.now())
            for s in symbols
            if s in self.quotes
            for b, a in [self.quotes[s]]
        }

    async def list_orders(
        self, *, after: datetime, symbols: Iterable[str] | None = None, open_only: bool = False
    ) -> Sequence[BrokerOrder]:
        self._hit()
        self._fill_all()
        wanted = set(symbols) if symbols is not None else None
        return [
            o
            for o in self.orders.values()
            if (wanted is None or o.symbol in wanted)
            and (o.submitted_at or T0) > after
            and not (open_only and o.status.is_terminal)
        ]

    async def get_order(self, order_id: str) -> BrokerOrder:
        self._hit()
        if order_id not in self.orders:
            raise OrderNotFoundError("no such order", 404)
        return self.orders[order_id]

    async def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        self._hit()
        return next((o for o in self.orders.values() if o.client_order_id == client_order_id), None)

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        self.requests += 1
        if any(o.client_order_id == request.client_order_id for o in self.orders.values()):
            raise DuplicateClientOrderIdError("duplicate", 422, 40010001)
        self.submits.append(request)
        live_sells = [
            o for o in self.orders.values() if o.side is Side.SELL and not o.status.is_terminal
        ]
        if request.side is Side.BUY and live_sells:
            self.events.append(("buy_while_sell_live", request.client_order_id))
        order = BrokerOrder(
            id=f"o{next(self._ids)}",
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            qty=request.qty,
            limit_price=request.limit_price,
            status=OrderStatus.NEW,
            submitted_at=self.clock.now(),
        )
        self.orders[order.id] = order
        self.events.append(("submit", order.id))
        if self.lose_next_submits > 0:
            self.lose_next_submits -= 1
            raise AmbiguousSubmitError("response lost")
        return order

    async def replace_order(
        self,
        order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        client_order_id: str | None = None,
    ) -> BrokerOrder:
        raise NotImplementedError

    async def cancel_order(self, order_id: str) -> None:
        self._hit()
        order = self.orders[order_id]
        if not order.status.is_terminal:
            self.orders[order_id] = order.model_copy(update={"status": OrderStatus.CANCELED})
            self.events.append(("cancel", order_id))

    def request_count(self) -> int:
        return self.requests


@dataclass
class FakeKillSwitch:
    answers: list[bool]
    calls: int = 0

    async def is_engaged(self) -> bool:
        self.calls += 1
        return self.answers[min(self.calls - 1, len(self.answers) - 1)]
