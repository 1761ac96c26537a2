"""The simulator's state and matching loop. Every public method takes the engine lock.

The market advances lazily: every request (and a background ticker every ~50 ms of real time)
calls :meth:`SimEngine.advance`, which replays each simulated step since the last call in order —
new quote, then matching of that symbol's open orders against it and its trade prints.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol

from alpaca_sim import fills as fm
from alpaca_sim import lifecycle, session
from alpaca_sim.accounts import BuyingPowers, Holding, SimAccount, buying_powers
from alpaca_sim.clock import SimClock
from alpaca_sim.errors import UNAUTHORIZED, ApiError
from alpaca_sim.faults import FaultInjector
from alpaca_sim.market import SymbolMarket, TradePrint
from alpaca_sim.orders import SimOrder
from alpaca_sim.ratelimit import RateLimiter
from alpaca_sim.scenario import Scenario, default_scenario

ASSET_NS = uuid.UUID("0b9d7a43-5a9f-4a39-8a57-3f2a3c1e9b21")


@dataclass(frozen=True)
class FillRecord:
    """One execution, as the control API reports it."""

    api_key: str
    order_id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    liquidity: str  # "taker" or "maker"
    at: datetime
    # what produced the fill: "taker" (arriving order), "quote" (the opposite quote reached a
    # resting limit) or "print" (a modelled trade print reached it); see fills.TRIGGERS
    trigger: str


class OrderObserver(Protocol):
    """Told of every order change, under the engine lock, right after it happened (the
    ``trade_updates`` stream is one); must not block."""

    def status_changed(self, order: SimOrder, previous: str, at: datetime) -> None: ...

    def filled(self, order: SimOrder, fill: FillRecord) -> None: ...


def asset_id(symbol: str) -> str:
    return str(uuid.uuid5(ASSET_NS, symbol))


class SimEngine:
    """All simulator state. Thread-safe: HTTP handlers and the control API share one RLock."""

    def __init__(
        self,
        *,
        seed: int = 0,
        scenario: Scenario | None = None,
        time_scale: float = 1.0,
        keys: Mapping[str, str] | None = None,
        start: datetime | None = None,
        step_s: float = 1.0,
    ) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.step_s = step_s
        self.clock = SimClock(start=start, time_scale=time_scale)
        self.keys = dict(keys) if keys is not None else None
        self.faults = FaultInjector(seed)
        self.request_counts: Counter[str] = Counter()
        self.requests_by_minute: Counter[datetime] = Counter()
        self.observers: list[OrderObserver] = []
        self.load(scenario or default_scenario())

    def load(self, scenario: Scenario) -> None:
        """Reset market, accounts, orders and fills to ``scenario`` (request counters are kept)."""
        with self.lock:
            self.scenario = scenario
            self.broker = scenario.broker
            self.market_open = scenario.market_open
            self.frozen = False
            self.step = int(self.clock.monotonic() // self.step_s)
            at = self.clock.now()
            self.markets = {
                sym: SymbolMarket(sym, spec, self.seed, self.step_s, at)
                for sym, spec in sorted(scenario.symbols.items())
            }
            self.accounts: dict[str, SimAccount] = {}
            self.orders: dict[str, SimOrder] = {}
            self.open_orders: dict[str, SimOrder] = {}
            self.by_client_id: dict[tuple[str, str], SimOrder] = {}
            self.fills: list[FillRecord] = []
            self.consumed: dict[tuple[str, str], Decimal] = {}
            self._ids = random.Random(f"{self.seed}:ids")
            self._partials = random.Random(f"{self.seed}:partials")
            self._seq = 0
            self.lifecycle = lifecycle.Lifecycle()
            self.session_close = session.next_close(at)
            self.rate_limiter = (
                None if self.broker.ideal else RateLimiter(self.broker.rate_limit_per_min)
            )

    # --- identity ---------------------------------------------------------------------------

    def new_id(self) -> str:
        """A v4-shaped UUID drawn from the seeded id stream (same seed, same ids)."""
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def authenticate(self, key: str | None, secret: str | None) -> SimAccount:
        """The account for an API key; unknown keys get a fresh scenario account.

        Raises ApiError 401 when a header is missing or, with a fixed key list, the key/secret
        pair is not in it.
        """
        if not key or not secret:
            raise ApiError(401, UNAUTHORIZED, "request is not authorized")
        if self.keys is not None and self.keys.get(key) != secret:
            raise ApiError(401, UNAUTHORIZED, "request is not authorized")
        with self.lock:
            return self.account(key)

    def account(self, api_key: str) -> SimAccount:
        with self.lock:
            acct = self.accounts.get(api_key)
            if acct is None:
                spec = self.scenario.account
                acct = SimAccount(
                    api_key=api_key,
                    cash=self.scenario.cash,
                    created_at=self.clock.now(),
                    margin=spec.type == "margin",
                    pattern_day_trader=spec.pattern_day_trader,
                    daytrade_count=spec.daytrade_count,
                )
                for sym, qty in self.scenario.positions.items():
                    if qty > 0 and sym in self.markets:
                        acct.holdings[sym] = Holding(qty, self.markets[sym].quote.mid)
                self.accounts[api_key] = acct
            return acct

    def long_value(self, account: SimAccount) -> Decimal:
        """Market value of an account's positions at the mid."""
        marks = self.markets
        return sum((h.qty * marks[s].quote.mid for s, h in account.holdings.items()), Decimal(0))

    def buying_powers(self, account: SimAccount) -> BuyingPowers:
        mine = [o for o in self.open_orders.values() if o.api_key == account.api_key]
        return buying_powers(account, self.long_value(account), mine)

    # --- time and matching ------------------------------------------------------------------

    def advance(self) -> None:
        """Replay every simulated step up to now: due lifecycle transitions, the session close,
        quotes, then matching per symbol; finally the transitions due by now."""
        with self.lock:
            now_s = self.clock.monotonic()
            target = int(now_s // self.step_s)
            for step in range(self.step + 1, target + 1):
                at = self.clock.at(step * self.step_s)
                self._transitions(step * self.step_s, at)
                self.step = step
                for sym, mkt in self.markets.items():
                    prints = mkt.step(step, at, self.frozen)
                    self.consumed.pop((sym, "buy"), None)
                    self.consumed.pop((sym, "sell"), None)
                    self.match(sym, prints, at, event=False)
            self.step = max(self.step, target)
            self._transitions(now_s, self.clock.at(now_s))

    def _transitions(self, upto_s: float, at: datetime) -> None:
        lifecycle.run_due(self, upto_s)
        if self.broker.ideal or at < self.session_close:
            return
        lifecycle.close_session(self, self.session_close)
        self.session_close = session.next_close(at)

    def match(self, symbol: str, prints: list[TradePrint], at: datetime, *, event: bool) -> None:
        """Match ``symbol``'s open orders: arrivals as takers, then resting limits.

        ``event`` is True for a submission or a forced quote (resting orders placed in the current
        step may fill); False for a regular step (only orders from earlier steps may).
        """
        if not self.market_open or self.markets[symbol].halted:
            return
        live = [o for o in self.open_orders.values() if o.symbol == symbol and o.is_fillable]
        if not live:
            return
        live.sort(key=lambda o: o.seq)
        for order in live:
            if order.taker_pending:
                self._take(order, at)
        resting = [
            o
            for o in live
            if o.is_fillable and o.type == "limit" and (event or o.placed_step < self.step)
        ]
        for side in ("buy", "sell"):
            book = sorted(
                (o for o in resting if o.side == side),
                key=lambda o: (-(o.limit_price or 0) if side == "buy" else o.limit_price, o.seq),
            )
            if book:
                self._rest(side, book, prints, at)

    def _take(self, order: SimOrder, at: datetime) -> None:
        quote = self.markets[order.symbol].quote
        key = (order.symbol, order.side)
        notional = order.remaining_notional if order.notional is not None else None
        fills = fm.sweep(
            order.side,
            quote,
            self.consumed.get(key, Decimal(0)),
            qty=order.remaining_qty,
            notional=notional,
            limit=order.limit_price,
        )
        order.taker_pending = False
        if order.time_in_force == "fok" and sum(f.qty for f in fills) < (order.remaining_qty or 0):
            self.close_order(order, "canceled", at)
            return
        swept = sum((f.qty for f in fills), Decimal(0))
        part = self._random_part(order, swept)
        if part < swept:
            fills = _first(fills, part)
            order.taker_pending = True  # the rest takes again in the next step
        for fill in fills:
            self.apply_fill(order, fill, at)
            self.consumed[key] = self.consumed.get(key, Decimal(0)) + fill.qty
        if order.notional is not None and order.filled_qty > 0 and order.is_open:
            self.set_status(order, "filled", at)  # a notional sweep leaves sub-share dust
        if order.is_open and order.time_in_force in ("ioc", "fok"):
            self.close_order(order, "canceled", at)

    def _rest(
        self, side: str, book: list[SimOrder], prints: list[TradePrint], at: datetime
    ) -> None:
        symbol = book[0].symbol
        quote = self.markets[symbol].quote
        key = (symbol, side)
        for order in book:
            if order.limit_price is None or not order.is_fillable:
                continue
            fill = fm.cross_fill(
                side,
                order.limit_price,
                order.remaining_qty or Decimal(0),
                quote,
                self.consumed.get(key, Decimal(0)),
            )
            if fill is not None:
                fill = fm.Fill(
                    self._random_part(order, fill.qty), fill.price, fill.liquidity, fill.trigger
                )
                self.apply_fill(order, fill, at)
                self.consumed[key] = self.consumed.get(key, Decimal(0)) + fill.qty
        for trade in prints:
            size = trade.size
            queue_applied = False
            for order in book:
                if order.limit_price is None or not order.is_fillable or size <= 0:
                    continue
                reach = fm.print_reach(side, order.limit_price, quote, trade)
                if reach is None:
                    continue
                if reach == "touch" and not queue_applied:
                    size -= fm.displayed_queue(side, quote)
                    queue_applied = True
                take = self._random_part(order, min(size, order.remaining_qty or Decimal(0)))
                if take > 0:
                    self.apply_fill(order, fm.print_fill(take, order.limit_price), at)
                    size -= take

    def _random_part(self, order: SimOrder, qty: Decimal) -> Decimal:
        """Paper trading: an eligible fill is, with ``partial_fill_probability``, only a random
        part of itself (never for FOK or notional orders, or a single share)."""
        chance = self.broker.partial_fill_probability
        if chance <= 0 or order.time_in_force == "fok" or order.notional is not None:
            return qty
        if qty <= 1 or self._partials.random() >= chance:
            return qty
        if qty == qty.to_integral_value():
            return Decimal(self._partials.randint(1, int(qty) - 1))
        share = Decimal(repr(self._partials.uniform(0.1, 0.9)))
        return (qty * share).quantize(fm.QTY_QUANTUM, ROUND_FLOOR)

    def apply_fill(self, order: SimOrder, fill: fm.Fill, at: datetime) -> None:
        """Book one execution: account, order status (a pending cancel/replace stays pending
        until the order is complete) and the fill record."""
        self.account(order.api_key).apply_fill(
            order.side, order.symbol, fill.qty, fill.price, session.trading_day(at)
        )
        order.filled_qty += fill.qty
        order.filled_value += fill.qty * fill.price
        done = order.remaining_qty is not None and order.remaining_qty <= 0
        if done:
            self.set_status(order, "filled", at)
        elif order.status in ("pending_cancel", "pending_replace"):
            order.updated_at = at
        else:
            self.set_status(order, "partially_filled", at)
        self.fills.append(
            FillRecord(
                order.api_key,
                order.id,
                order.client_order_id,
                order.symbol,
                order.side,
                fill.qty,
                fill.price,
                fill.liquidity,
                at,
                fill.trigger,
            )
        )
        for observer in self.observers:
            observer.filled(order, self.fills[-1])

    def set_status(self, order: SimOrder, status: str, at: datetime) -> None:
        previous = order.status
        order.status = status
        order.updated_at = at
        if status == "filled":
            order.filled_at = at
        if not order.is_open:
            self.open_orders.pop(order.id, None)
        for observer in self.observers:
            observer.status_changed(order, previous, at)

    def close_order(self, order: SimOrder, status: str, at: datetime) -> None:
        """Take an open order off the book as canceled / expired / replaced / rejected (its
        timestamp is set first, so observers see the order complete)."""
        if status == "canceled":
            order.canceled_at = at
        elif status == "expired":
            order.expired_at = at
        elif status == "replaced":
            order.replaced_at = at
        elif status == "rejected":
            order.failed_at = at
        self.set_status(order, status, at)

    def record_request(self, endpoint: str) -> None:
        with self.lock:
            self.request_counts[endpoint] += 1
            minute = self.clock.now().replace(second=0, microsecond=0)
            self.requests_by_minute[minute] += 1


def _first(fills: list[fm.Fill], qty: Decimal) -> list[fm.Fill]:
    """The leading ``qty`` shares of a sweep (a random partial fill of a taker)."""
    kept: list[fm.Fill] = []
    for fill in fills:
        if qty <= 0:
            break
        take = min(qty, fill.qty)
        kept.append(fm.Fill(take, fill.price, fill.liquidity, fill.trigger))
        qty -= take
    return kept
