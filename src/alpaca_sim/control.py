"""In-process control API for tests and the benchmark (also served under ``/sim/...``).

Every method is thread-safe (it takes the engine lock) and brings the market up to the current
simulated time first, so what it reports or changes is "now".

Streams (``/stream``, ``/v2/{feed}``): :meth:`SimControl.stream_clients` lists the open
connections (to wait until a client listens), :meth:`SimControl.disconnect_streams` closes them
now, and ``inject_fault(FaultSpec(endpoint="WS /stream", kind="stream_silent" | "stream_duplicate"
| "stream_reorder" | "stream_unknown_order" | "stream_lag" | "stream_disconnect", api_key=...,
latency_s=...))`` disturbs the frames that follow (``faults.py``). Order events are produced by
the engine itself (``trade_updates.py``): force rare ones with :meth:`force_status` /
:meth:`force_fill`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from alpaca_sim import fills as fm
from alpaca_sim import schemas
from alpaca_sim.accounts import Holding
from alpaca_sim.engine import FillRecord, SimEngine
from alpaca_sim.faults import FaultSpec
from alpaca_sim.market import QuoteTick
from alpaca_sim.orders import ALL_STATUSES, TERMINAL_STATUSES, SimOrder
from alpaca_sim.scenario import Scenario
from alpaca_sim.stream_hub import StreamHub


class SimControl:
    """Drive and inspect a running simulator."""

    def __init__(self, engine: SimEngine, streams: StreamHub | None = None) -> None:
        self._engine = engine
        self._streams = streams

    @property
    def engine(self) -> SimEngine:
        return self._engine

    def load_scenario(self, scenario: Scenario | Path) -> None:
        """Reset market, accounts, orders and fills. Raises OSError/ValueError for a bad file."""
        loaded = Scenario.load(scenario) if isinstance(scenario, Path) else scenario
        self._engine.load(loaded)

    def set_quote(
        self,
        symbol: str,
        bid: Decimal,
        ask: Decimal,
        bid_size: Decimal | None = None,
        ask_size: Decimal | None = None,
    ) -> QuoteTick:
        """Force the top of book now and match resting orders against it.

        Raises KeyError for an unknown symbol, ValueError unless 0 < bid < ask. Call
        ``freeze_market(True)`` first to keep the random walk from moving it on the next step.
        """
        eng = self._engine
        with eng.lock:
            eng.advance()
            now = eng.clock.now()
            quote = eng.markets[symbol].set_quote(
                Decimal(bid),
                Decimal(ask),
                None if bid_size is None else Decimal(bid_size),
                None if ask_size is None else Decimal(ask_size),
                now,
            )
            eng.consumed.pop((symbol, "buy"), None)
            eng.consumed.pop((symbol, "sell"), None)
            eng.match(symbol, [], now, event=True)
            return quote

    def pause_clock(self) -> None:
        """Stop simulated time: nothing moves until :meth:`advance_time` or :meth:`resume_clock`.
        With the clock paused, quotes AND fills are a pure function of seed and request order."""
        with self._engine.lock:
            self._engine.advance()
            self._engine.clock.pause()

    def resume_clock(self) -> None:
        with self._engine.lock:
            self._engine.clock.resume()

    def advance_time(self, seconds: float) -> None:
        """Move simulated time forward and replay every step (quotes, prints, fills) up to it."""
        with self._engine.lock:
            self._engine.clock.advance(seconds)
            self._engine.advance()

    def freeze_market(self, frozen: bool = True) -> None:
        """Stop (or restart) the random walk and the trade prints for every symbol."""
        with self._engine.lock:
            self._engine.advance()
            self._engine.frozen = frozen

    def halt(self, symbol: str, halted: bool = True) -> None:
        """Halt a symbol: its quote stops updating (goes stale) and nothing fills; orders are
        still accepted and rest until the halt is lifted. Raises KeyError for unknown symbols."""
        eng = self._engine
        with eng.lock:
            eng.advance()
            eng.markets[symbol].halted = halted
            if not halted:
                eng.match(symbol, [], eng.clock.now(), event=True)

    def set_market_open(self, is_open: bool) -> None:
        """Close or open the market. Orders are accepted while closed (status ``accepted``) and
        go ``new`` and first match when it opens (a close by this call expires nothing: DAY
        orders expire only at the 16:00 New York session close)."""
        eng = self._engine
        with eng.lock:
            eng.advance()
            eng.market_open = is_open
            if is_open:
                now = eng.clock.now()
                for order in list(eng.open_orders.values()):
                    if order.status == "accepted":
                        eng.set_status(order, "new", now)
                for symbol in eng.markets:
                    eng.match(symbol, [], now, event=True)

    def set_account(
        self,
        api_key: str,
        *,
        cash: Decimal | None = None,
        positions: Mapping[str, Decimal] | None = None,
        avg_price: Mapping[str, Decimal] | None = None,
        trading_blocked: bool | None = None,
        account_blocked: bool | None = None,
        daytrade_count: int | None = None,
        pattern_day_trader: bool | None = None,
    ) -> None:
        """Create or overwrite an account. ``positions`` replaces all holdings; their average
        price defaults to the current mid."""
        eng = self._engine
        with eng.lock:
            eng.advance()
            acct = eng.account(api_key)
            if cash is not None:
                acct.cash = Decimal(cash)
            if positions is not None:
                prices = avg_price or {}
                acct.holdings = {
                    sym: Holding(Decimal(qty), Decimal(prices.get(sym, eng.markets[sym].quote.mid)))
                    for sym, qty in positions.items()
                    if Decimal(qty) > 0
                }
            if trading_blocked is not None:
                acct.trading_blocked = trading_blocked
            if account_blocked is not None:
                acct.account_blocked = account_blocked
            if daytrade_count is not None:
                acct.daytrade_count = daytrade_count
            if pattern_day_trader is not None:
                acct.pattern_day_trader = pattern_day_trader

    def force_status(self, order_id: str, status: str) -> None:
        """Put an open order in any Alpaca status now (``held``, ``pending_review``,
        ``stopped``, ``calculated``, ``done_for_day``, ``suspended``, ``new``...). A terminal
        status takes it off the book; a fillable one (``new``, ``stopped``...) lets it match.

        Raises KeyError for an unknown order, ValueError for an unknown status or a closed order.
        """
        if status not in ALL_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        eng = self._engine
        with eng.lock:
            eng.advance()
            order = self._open_order(order_id)
            now = eng.clock.now()
            if status in TERMINAL_STATUSES:
                eng.close_order(order, status, now)
                return
            eng.set_status(order, status, now)
            if order.is_fillable:
                order.taker_pending = True
                eng.match(order.symbol, [], now, event=True)

    def force_fill(
        self, order_id: str, qty: Decimal | None = None, price: Decimal | None = None
    ) -> None:
        """Execute (part of) an open order now: ``qty`` defaults to the rest, ``price`` to its
        limit (else the far touch). Works in any open status, pending windows included.

        Raises KeyError for an unknown order, ValueError for a closed order, a notional order
        without ``qty``, or a qty that is not positive or exceeds the rest.
        """
        eng = self._engine
        with eng.lock:
            eng.advance()
            order = self._open_order(order_id)
            rest = order.remaining_qty
            amount = Decimal(qty) if qty is not None else rest
            if amount is None or amount <= 0 or (rest is not None and amount > rest):
                raise ValueError("fill qty must be positive and at most the unfilled rest")
            quote = eng.markets[order.symbol].quote
            touch = quote.ask if order.side == "buy" else quote.bid
            fill_price = Decimal(price) if price is not None else order.limit_price or touch
            eng.apply_fill(order, fm.Fill(amount, fill_price, "maker", fm.FORCED), eng.clock.now())

    def _open_order(self, order_id: str) -> SimOrder:
        order = self._engine.orders[order_id]
        if not order.is_open:
            raise ValueError(f"order {order_id} is {order.status}")
        return order

    def inject_fault(self, spec: FaultSpec) -> None:
        """Add an HTTP or stream fault (see ``faults.py``); it applies from the next request or
        frame on."""
        self._engine.faults.add(spec)

    def stream_clients(self, api_key: str | None = None) -> list[StreamClient]:
        """The open, authenticated stream connections (of ``api_key``)."""
        if self._streams is None:
            return []
        return [
            StreamClient(
                number=c.number,
                endpoint=c.endpoint,
                api_key=c.api_key,
                listening=c.listening,
                quotes=frozenset(c.subscription.symbols["quotes"]) if c.subscription else None,
                trades=frozenset(c.subscription.symbols["trades"]) if c.subscription else None,
                bars=frozenset(c.subscription.symbols["bars"]) if c.subscription else None,
            )
            for c in self._streams.connections()
            if c.api_key is not None and (api_key is None or c.api_key == api_key)
        ]

    def disconnect_streams(self, api_key: str | None = None) -> int:
        """Close every stream connection (of ``api_key``) now, as a network drop would; the
        client sees the socket close (code 1011). Returns how many were closed."""
        return 0 if self._streams is None else self._streams.disconnect(api_key=api_key)

    def clear_faults(self) -> None:
        self._engine.faults.clear()

    def orders(self, api_key: str | None = None) -> list[dict[str, Any]]:
        """Every order (Alpaca JSON shape plus ``api_key``), oldest first."""
        eng = self._engine
        with eng.lock:
            eng.advance()
            found = sorted(eng.orders.values(), key=lambda o: o.seq)
            return [
                {**schemas.order_json(o), "api_key": o.api_key}
                for o in found
                if api_key is None or o.api_key == api_key
            ]

    def fills(self, api_key: str | None = None) -> list[FillRecord]:
        eng = self._engine
        with eng.lock:
            eng.advance()
            return [f for f in eng.fills if api_key is None or f.api_key == api_key]

    def request_counts(self) -> dict[str, int]:
        """Requests per endpoint (``"METHOD /route"``), control routes excluded."""
        with self._engine.lock:
            return dict(self._engine.request_counts)

    def total_requests(self) -> int:
        with self._engine.lock:
            return sum(self._engine.request_counts.values())

    def requests_by_minute(self) -> dict[datetime, int]:
        """Requests per SIMULATED minute (floor), for peak-per-minute measurements."""
        with self._engine.lock:
            return dict(sorted(self._engine.requests_by_minute.items()))

    def quote(self, symbol: str) -> QuoteTick:
        """The current quote. Raises KeyError for an unknown symbol."""
        with self._engine.lock:
            self._engine.advance()
            return self._engine.markets[symbol].quote

    def quote_path(self, symbol: str) -> list[QuoteTick]:
        """Quote history (last 20,000 changes). Raises KeyError for an unknown symbol."""
        with self._engine.lock:
            self._engine.advance()
            return list(self._engine.markets[symbol].history)

    def account_state(self, api_key: str) -> AccountState:
        """Cash, buying power, equity and positions of an account (created if new)."""
        eng = self._engine
        with eng.lock:
            eng.advance()
            acct = eng.account(api_key)
            powers = eng.buying_powers(acct)
            return AccountState(
                api_key=api_key,
                cash=acct.cash,
                buying_power=powers.buying_power,
                equity=acct.cash + eng.long_value(acct),
                positions={s: h.qty for s, h in acct.holdings.items()},
                avg_prices={s: h.avg_price for s, h in acct.holdings.items()},
                trading_blocked=acct.trading_blocked,
                account_blocked=acct.account_blocked,
                account_type="margin" if acct.margin else "cash",
                multiplier=powers.multiplier,
                regt_buying_power=powers.regt_buying_power,
                daytrading_buying_power=powers.daytrading_buying_power,
                non_marginable_buying_power=powers.non_marginable_buying_power,
                reserved=powers.reserved,
                pattern_day_trader=acct.pattern_day_trader,
                daytrade_count=acct.daytrade_count,
            )


@dataclass(frozen=True)
class AccountState:
    """A snapshot of one account; money and quantities are Decimal."""

    api_key: str
    cash: Decimal
    buying_power: Decimal
    equity: Decimal
    positions: dict[str, Decimal]
    avg_prices: dict[str, Decimal]
    trading_blocked: bool
    account_blocked: bool
    account_type: str  # "margin" or "cash"
    multiplier: int
    regt_buying_power: Decimal
    daytrading_buying_power: Decimal
    non_marginable_buying_power: Decimal  # cash less open-buy reservations: no borrowing
    reserved: Decimal  # buying power held by open buys
    pattern_day_trader: bool
    daytrade_count: int


@dataclass(frozen=True)
class StreamClient:
    """One authenticated stream connection: ``listening`` to trade_updates (``/stream``), or
    its ``quotes`` / ``trades`` / ``bars`` subscription (``/v2/{feed}``, else None)."""

    number: int  # connections are numbered from 1 in the order they opened
    endpoint: str  # "WS /stream", "WS /v2/iex", "WS /v2/sip"
    api_key: str
    listening: bool
    quotes: frozenset[str] | None
    trades: frozenset[str] | None
    bars: frozenset[str] | None
