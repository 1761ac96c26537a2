"""The one in-memory BrokerPort (our own port, not alpaca-py) and a virtual clock for unit tests.

:class:`FakeBroker` keeps an account, a quote table and an order book. Market orders fill at the
touch on the *next* orders listing (so fills are asynchronous, as at a real broker); ``partial``
caps the fraction of an order that fills per listing, and ``fills=False`` freezes the book (a
snapshot of a broker, for read-only callers such as the planner). ``margin=True`` makes it a
Reg T margin account as Alpaca opens them (multiplier 2: ``buying_power`` = 2 x equity less open
buys) that, like Alpaca, lets buys borrow up to that buying power (cash goes negative). Every call
is logged by name in ``calls``; a call named in ``forbidden`` raises ``AssertionError`` (so a test
fails when code that must not write does). Subclasses change how the book moves by overriding
:meth:`FakeBroker._settle`.

Alpaca's rules (alpaca-behaviour.md rows 3-6) are opt-in so the older tests keep their pacing:
``cancel_window`` leaves a cancelled order ``pending_cancel`` (fills still land) until the next
listing concludes it (or, with an adversary, until the adversary does); ``ack_status`` is the
status a submit answers with; orders in ``held``/``pending_review``/... do not fill; a
``stopped`` order cannot be cancelled (its fill is guaranteed: an adversary delivers it);
:meth:`replace_externally` is Alpaca's PATCH under the pessimistic reading (replacement with
the original qty, old order ``pending_replace`` until the next listing, replacement rejected if
the old one filled first).
An :class:`~tests.fakes.adversary.Adversary` is asked before every request takes effect and may
fill orders, change statuses, hold or conclude cancels, serve a stale listing or lose a response.
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
    Bar,
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
    Trade,
)
from tests.fakes.adversary import Adversary

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
_QTY_STEP = Decimal("0.000000001")
# Statuses in which an order can receive fills (held, pending_review, suspended,
# accepted_for_bidding and unknown ones wait for the broker to release them).
FILLABLE = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.ACCEPTED,
        OrderStatus.PENDING_NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
        OrderStatus.STOPPED,
    }
)
_FRESH = frozenset({OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PENDING_NEW})


class VirtualClock:
    """Time that only moves when someone sleeps: tests run instantly and deterministically."""

    def __init__(self, start: datetime = T0) -> None:
        self.start = start
        self.t = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class FakeBroker:
    clock: VirtualClock
    cash: Decimal = Decimal(100_000)
    equity: Decimal | None = None  # None: cash + holdings at the bid
    positions: dict[str, Decimal] = field(default_factory=dict)
    quotes: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    non_fractionable: set[str] = field(default_factory=set)
    untradable: set[str] = field(default_factory=set)
    margin: bool = False
    market_open: bool = True
    next_open: datetime | None = None
    next_close: datetime | None = None
    blocked: bool = False
    fills: bool = True
    partial: Decimal = Decimal(1)
    fail_reads: bool = False
    lose_next_submits: int = 0
    forbidden: frozenset[str] = frozenset()
    cancel_window: bool = False
    ack_status: OrderStatus = OrderStatus.NEW
    adversary: Adversary | None = None
    orders: dict[str, BrokerOrder] = field(default_factory=dict)
    submits: list[OrderRequest] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    # Market data as a single-venue feed (iex) shows it, while fills follow ``quotes`` (the
    # NBBO): symbol -> (bid, ask, age in seconds at each read); a 0 side is a missing side.
    feed_quotes: dict[str, tuple[Decimal, Decimal, float]] = field(default_factory=dict)
    # symbol -> (price, age in seconds at each read)
    trades: dict[str, tuple[Decimal, float]] = field(default_factory=dict)
    # symbol -> (low, high, minutes since the bar started at each read); one bar per symbol
    bars: dict[str, tuple[Decimal, Decimal, float]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    # the orders as the last listing showed them (served again by a stale listing)
    _last_listing: dict[str, BrokerOrder] = field(default_factory=dict)
    _stale_next: bool = False

    # --- helpers for tests ----------------------------------------------------------------------
    @property
    def requests(self) -> int:
        return len(self.calls)

    def quote(self, symbol: str, bid: str, ask: str) -> None:
        self.quotes[symbol] = (Decimal(bid), Decimal(ask))

    def feed_quote(self, symbol: str, bid: str, ask: str, age_s: float = 0.0) -> None:
        """Serve this quote (``age_s`` old at every read) instead of the NBBO fills follow."""
        self.feed_quotes[symbol] = (Decimal(bid), Decimal(ask), age_s)

    def trade(self, symbol: str, price: str, age_s: float = 0.0) -> None:
        self.trades[symbol] = (Decimal(price), age_s)

    def bar(self, symbol: str, low: str, high: str, age_min: float = 1.0) -> None:
        self.bars[symbol] = (Decimal(low), Decimal(high), age_min)

    def filled(self, symbol: str, side: Side | None = None) -> Decimal:
        """Quantity filled in ``symbol`` on ``side`` (both sides when ``None``)."""
        return sum(
            (
                o.filled_qty
                for o in self.orders.values()
                if o.symbol == symbol and (side is None or o.side is side)
            ),
            Decimal(0),
        )

    # --- the book -------------------------------------------------------------------------------
    def _hit(self, name: str, *, can_fail: bool = True) -> None:
        """Log a call; AssertionError when forbidden, BrokerUnavailableError when reads fail."""
        self.calls.append(name)
        if name in self.forbidden:
            raise AssertionError(f"unexpected broker call: {name}")
        if self.adversary is not None:
            self.adversary.between(self, name)
        if can_fail and self.fail_reads:
            raise BrokerUnavailableError("fake broker down")

    def _lost(self, name: str) -> bool:
        return self.adversary is not None and self.adversary.lose(name)

    def _live(self) -> list[BrokerOrder]:
        return [o for o in self.orders.values() if not o.status.is_terminal]

    def _settle(self) -> None:
        """What happens to the book before a listing: each fillable order fills up to
        ``partial``; without an adversary, replaces and pending cancels conclude."""
        for order in self._live():
            if order.qty is None or order.status not in FILLABLE:
                continue
            cap = (order.qty * self.partial).quantize(_QTY_STEP)
            self._fill(order, min(order.qty - order.filled_qty, cap))
        if self.adversary is None:
            self.conclude_replaces()
            self.conclude_cancels()

    # --- the Book protocol (what an adversary may do between requests) -------------------------
    def live(self) -> list[BrokerOrder]:
        return self._live()

    def fill(self, order_id: str, qty: Decimal) -> None:
        """Fill up to ``qty`` of a live, fillable order at the touch."""
        order = self.orders[order_id]
        if order.status.is_terminal or order.status not in FILLABLE or order.qty is None:
            return
        self._fill(order, min(qty, order.qty - order.filled_qty))

    def set_status(self, order_id: str, status: OrderStatus) -> None:
        """Move a live order to another live status (held, stopped, pending_review, ...)."""
        order = self.orders[order_id]
        if not order.status.is_terminal and order.status is not OrderStatus.PENDING_CANCEL:
            self.orders[order_id] = order.model_copy(update={"status": status})

    def conclude_cancels(self) -> None:
        """Every ``pending_cancel`` order becomes ``canceled`` (its fills are then final)."""
        for oid, order in list(self.orders.items()):
            if order.status is OrderStatus.PENDING_CANCEL:
                self.orders[oid] = order.model_copy(
                    update={"status": OrderStatus.CANCELED, "canceled_at": self.clock.now()}
                )
                self.events.append(("cancel", oid))

    def serve_stale_listing(self) -> None:
        """The next listing shows the orders as the previous listing did (a lagging read)."""
        self._stale_next = True

    def replace_externally(self, order_id: str, limit_price: Decimal) -> BrokerOrder:
        """Alpaca's PATCH without ``qty``, read pessimistically (row 3): the replacement carries
        the ORIGINAL qty and is live at once, while the old order sits in ``pending_replace``
        (fills still land) until the next listing (or the adversary) concludes the replace."""
        old = self.orders[order_id]
        new = old.model_copy(
            update={
                "id": f"o{next(self._ids)}",
                "client_order_id": f"{old.client_order_id}-r",
                "filled_qty": Decimal(0),
                "filled_avg_price": None,
                "limit_price": limit_price,
                "status": OrderStatus.NEW,
                "submitted_at": self.clock.now(),
                "replaces": old.id,
            }
        )
        self.orders[order_id] = old.model_copy(
            update={"status": OrderStatus.PENDING_REPLACE, "replaced_by": new.id}
        )
        self.orders[new.id] = new
        return new

    def conclude_replaces(self) -> None:
        """Every ``pending_replace`` order becomes ``replaced`` (its replacement goes on), or
        ``filled`` if it filled meanwhile (its replacement is then rejected)."""
        for oid, old in list(self.orders.items()):
            if old.status is not OrderStatus.PENDING_REPLACE or old.replaced_by is None:
                continue
            new = self.orders[old.replaced_by]
            if old.qty is not None and old.filled_qty >= old.qty:
                # "the replacing (new) order is rejected" when the old one filled first
                self.orders[new.id] = new.model_copy(update={"status": OrderStatus.REJECTED})
                self.orders[oid] = old.model_copy(update={"status": OrderStatus.FILLED})
            else:
                self.orders[oid] = old.model_copy(update={"status": OrderStatus.REPLACED})

    def _fill(self, order: BrokerOrder, qty: Decimal) -> None:
        """Fill ``qty`` of ``order`` at the touch; an unfinished order keeps a pending cancel."""
        if qty <= 0 or order.qty is None:
            return
        bid, ask = self.quotes[order.symbol]
        price = ask if order.side is Side.BUY else bid
        self._apply(order.symbol, order.side, qty, price)
        total = order.filled_qty + qty
        notional = order.filled_qty * (order.filled_avg_price or Decimal(0)) + qty * price
        status = order.status
        if total >= order.qty and status is not OrderStatus.PENDING_REPLACE:
            status = OrderStatus.FILLED
        elif status in _FRESH:
            status = OrderStatus.PARTIALLY_FILLED
        self.orders[order.id] = order.model_copy(
            update={
                "filled_qty": total,
                "filled_avg_price": notional / total,
                "status": status,
                "filled_at": self.clock.now(),
                "updated_at": self.clock.now(),
            }
        )
        self.events.append(("fill" if status is OrderStatus.FILLED else "partial", order.id))

    def _apply(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> None:
        sign = 1 if side is Side.BUY else -1
        self.positions[symbol] = self.positions.get(symbol, Decimal(0)) + sign * qty
        self.cash -= sign * qty * price

    def _market_value(self, symbol: str, qty: Decimal) -> Decimal | None:
        if symbol not in self.quotes:
            return None
        bid, ask = self.quotes[symbol]
        return qty * (bid + ask) / 2

    # --- BrokerPort -----------------------------------------------------------------------------
    async def get_account(self) -> AccountSnapshot:
        self._hit("get_account")
        equity = self.equity
        if equity is None:
            equity = self.cash + sum(
                (q * self.quotes[s][0] for s, q in self.positions.items() if s in self.quotes),
                Decimal(0),
            )
        multiplier = Decimal(2) if self.margin else Decimal(1)
        reserved = self._reserved()
        cash_power = self.cash - reserved
        return AccountSnapshot(
            account_id="fake",
            equity=equity,
            cash=self.cash,
            buying_power=multiplier * equity - reserved if self.margin else cash_power,
            regt_buying_power=multiplier * equity - reserved if self.margin else cash_power,
            non_marginable_buying_power=cash_power,
            multiplier=multiplier,
            trading_blocked=self.blocked,
        )

    def _reserved(self) -> Decimal:
        """Open buys' reservation: limit x unfilled, market buys at the ask (when quoted)."""
        total = Decimal(0)
        for order in self._live():
            quote = self.quotes.get(order.symbol)
            price = order.limit_price or (quote[1] if quote is not None else None)
            if order.side is Side.BUY and order.qty is not None and price is not None:
                total += (order.qty - order.filled_qty) * price
        return total

    async def get_clock(self) -> MarketClock:
        self._hit("get_clock")
        return MarketClock(
            timestamp=self.clock.now(),
            is_open=self.market_open,
            next_open=self.next_open,
            next_close=self.next_close,
        )

    async def get_assets(self, symbols: Iterable[str]) -> Mapping[str, Asset]:
        self._hit("get_assets")
        return {
            s: Asset(
                symbol=s,
                tradable=s not in self.untradable,
                fractionable=s not in self.non_fractionable,
            )
            for s in symbols
            if s in self.quotes
        }

    async def get_positions(self) -> Mapping[str, Position]:
        self._hit("get_positions")
        return {
            s: Position(symbol=s, qty=q, market_value=self._market_value(s, q))
            for s, q in self.positions.items()
            if q != 0
        }

    async def get_latest_quotes(self, symbols: Iterable[str]) -> Mapping[str, Quote]:
        self._hit("get_latest_quotes")
        now = self.clock.now()
        served = {s: (b, a, 0.0) for s, (b, a) in self.quotes.items()} | self.feed_quotes
        return {
            s: Quote(symbol=s, bid=b, ask=a, timestamp=now - timedelta(seconds=age))
            for s in symbols
            if s in served
            for b, a, age in [served[s]]
        }

    async def get_latest_trades(self, symbols: Iterable[str]) -> Mapping[str, Trade]:
        self._hit("get_latest_trades")
        now = self.clock.now()
        return {
            s: Trade(
                symbol=s, price=price, size=Decimal(100), timestamp=now - timedelta(seconds=age)
            )
            for s in symbols
            if s in self.trades
            for price, age in [self.trades[s]]
        }

    async def get_recent_bars(
        self, symbols: Iterable[str], minutes: int
    ) -> Mapping[str, Sequence[Bar]]:
        self._hit("get_recent_bars")
        now = self.clock.now()
        return {
            s: [
                Bar(
                    symbol=s,
                    timestamp=now - timedelta(minutes=age),
                    open=low,
                    high=high,
                    low=low,
                    close=high,
                )
            ]
            for s in symbols
            if s in self.bars
            for low, high, age in [self.bars[s]]
            if age <= minutes
        }

    async def list_orders(
        self, *, after: datetime, symbols: Iterable[str] | None = None, open_only: bool = False
    ) -> Sequence[BrokerOrder]:
        self._hit("list_orders")
        if self._lost("list_orders"):
            raise BrokerUnavailableError("listing failed")
        if self.fills:
            self._settle()
        view = dict(self.orders)
        if self._stale_next:
            self._stale_next = False
            view = {oid: self._last_listing[oid] for oid in view if oid in self._last_listing}
        self._last_listing = dict(self.orders)
        wanted = set(symbols) if symbols is not None else None
        return [
            o
            for o in view.values()
            if (wanted is None or o.symbol in wanted)
            and (o.submitted_at or T0) > after
            and not (open_only and o.status.is_terminal)
        ]

    async def get_order(self, order_id: str) -> BrokerOrder:
        self._hit("get_order")
        if order_id not in self.orders:
            raise OrderNotFoundError("no such order", 404)
        return self.orders[order_id]

    async def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        self._hit("get_order_by_client_id")
        if self._lost("get_order_by_client_id"):
            raise BrokerUnavailableError("look-up failed")
        return next((o for o in self.orders.values() if o.client_order_id == client_order_id), None)

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        """Book a NEW order; DuplicateClientOrderIdError on a reused id, AmbiguousSubmitError
        (after booking it) while ``lose_next_submits`` lasts."""
        self._hit("submit_order", can_fail=False)
        if any(o.client_order_id == request.client_order_id for o in self.orders.values()):
            raise DuplicateClientOrderIdError("duplicate", 422, 40010001)
        self.submits.append(request)
        if request.side is Side.BUY and any(o.side is Side.SELL for o in self._live()):
            self.events.append(("buy_while_sell_live", request.client_order_id))
        order = BrokerOrder(
            id=f"o{next(self._ids)}",
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            qty=request.qty,
            limit_price=request.limit_price,
            status=self.ack_status,
            submitted_at=self.clock.now(),
        )
        self.orders[order.id] = order
        self.events.append(("submit", order.id))
        if self.lose_next_submits > 0 or self._lost("submit_order"):
            self.lose_next_submits = max(0, self.lose_next_submits - 1)
            raise AmbiguousSubmitError("response lost")
        return order

    async def cancel_order(self, order_id: str) -> None:
        """A request: ``pending_cancel`` first with ``cancel_window``; a stopped order cannot be
        cancelled (a trade is guaranteed); a terminal one is left as it is (Alpaca's 422, which
        the adapter treats as done)."""
        self._hit("cancel_order")
        order = self.orders[order_id]
        if order.status.is_terminal or order.status is OrderStatus.STOPPED:
            return
        if self.cancel_window:
            self.orders[order_id] = order.model_copy(update={"status": OrderStatus.PENDING_CANCEL})
        else:
            self.orders[order_id] = order.model_copy(update={"status": OrderStatus.CANCELED})
            self.events.append(("cancel", order_id))
        if self._lost("cancel_order"):
            raise BrokerUnavailableError("cancel response lost")

    def request_count(self) -> int:
        return len(self.calls)
