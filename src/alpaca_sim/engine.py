"""The simulator's state and matching loop. Every public method takes the engine lock.

The market advances lazily: every request (and a background ticker every ~50 ms of real time)
calls :meth:`SimEngine.advance`, which replays each simulated step since the last call in order —
the symbol's tape step (takers, latent price, new quote), then our takers against the new quote
and our resting limits against the step's takers and path (``matching.py``).
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
from alpaca_sim import lifecycle, matching, session
from alpaca_sim.accounts import BuyingPowers, Holding, SimAccount, buying_powers
from alpaca_sim.clock import SimClock
from alpaca_sim.errors import UNAUTHORIZED, ApiError
from alpaca_sim.faults import FaultInjector
from alpaca_sim.feeds import uniforms
from alpaca_sim.impact import ImpactOverlay
from alpaca_sim.market import StepFlow, SymbolMarket
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
    # what produced the fill: "taker" (our arriving order), "flow" (a market taker reached our
    # resting limit through the queue) or "path" (the quote's path ran through it); fills.TRIGGERS
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
            self.streams = {sym: matching.Streams.of(self.seed, sym) for sym in self.markets}
            self.impact = {
                sym: ImpactOverlay.for_spec(mkt.spec) for sym, mkt in self.markets.items()
            }
            self.accounts: dict[str, SimAccount] = {}
            self.orders: dict[str, SimOrder] = {}
            self.open_orders: dict[str, SimOrder] = {}
            self.by_client_id: dict[tuple[str, str], SimOrder] = {}
            self.fills: list[FillRecord] = []
            self.consumed: dict[tuple[str, str], Decimal] = {}
            self._ids = random.Random(f"{self.seed}:ids")
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
                self.consumed.clear()
                busy: dict[str, list[SimOrder]] = {}
                for order in self.open_orders.values():
                    busy.setdefault(order.symbol, []).append(order)
                for sym, mkt in self.markets.items():
                    flow = mkt.step(step, at, self.frozen)
                    if sym in busy:
                        self.match(sym, flow, at, event=False, orders=busy[sym])
            self.step = max(self.step, target)
            self._transitions(now_s, self.clock.at(now_s))

    def _transitions(self, upto_s: float, at: datetime) -> None:
        lifecycle.run_due(self, upto_s)
        if self.broker.ideal or at < self.session_close:
            return
        lifecycle.close_session(self, self.session_close)
        self.session_close = session.next_close(at)

    def match(
        self,
        symbol: str,
        flow: StepFlow | None,
        at: datetime,
        *,
        event: bool,
        orders: list[SimOrder] | None = None,
    ) -> None:
        """Match ``symbol``'s open orders: arrivals as takers, then resting limits.

        ``event`` is True for an acknowledgement or a forced quote (resting orders placed in the
        current step may fill); False for a regular step (only orders from earlier steps may).
        ``flow`` is the step's takers and path; None (an event, a frozen or halted market) lets
        only a quote crossing a resting limit fill it. ``orders``: the symbol's open orders when
        the caller has them grouped already.
        """
        if not self.market_open or self.markets[symbol].halted:
            return
        if orders is None:
            orders = [o for o in self.open_orders.values() if o.symbol == symbol]
        live = [o for o in orders if o.is_fillable]
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
                matching.rest_side(self, side, book, flow, at)

    def _take(self, order: SimOrder, at: datetime) -> None:
        market = self.markets[order.symbol]
        quote = market.quote
        key = (order.symbol, order.side)
        notional = order.remaining_notional if order.notional is not None else None
        overlay = self.impact[order.symbol]
        shift = Decimal(repr(overlay.at(self.seconds_at(at)))) * quote.mid
        book = fm.Book(market.spec.depth, fm.level_spacing(quote), shift)
        fills = fm.sweep(
            order.side,
            quote,
            self.consumed.get(key, Decimal(0)),
            book,
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
        taken = sum((f.qty for f in fills), Decimal(0))
        if taken > 0:
            overlay.add(self.seconds_at(at), order.side, float(taken))
        if order.notional is not None and order.filled_qty > 0 and order.is_open:
            self.set_status(order, "filled", at)  # a notional sweep leaves sub-share dust
        if order.is_open and order.time_in_force in ("ioc", "fok"):
            self.close_order(order, "canceled", at)

    def seconds_at(self, at: datetime) -> float:
        """Simulated seconds since the clock started at the instant ``at``."""
        return (at - self.clock.start).total_seconds()

    def fill_resting(self, order: SimOrder, qty: Decimal, trigger: str, at: datetime) -> None:
        """A maker fill of up to ``qty`` at the order's limit (the broker may cut it short)."""
        assert order.limit_price is not None  # only limits rest
        part = self._random_part(order, min(qty, order.remaining_qty or Decimal(0)))
        if part > 0:
            self.apply_fill(order, fm.maker_fill(part, order.limit_price, trigger), at)

    def _random_part(self, order: SimOrder, qty: Decimal) -> Decimal:
        """Paper trading: an eligible fill is, with ``partial_fill_probability``, only a random
        part of itself (never for FOK or notional orders, or a single share)."""
        chance = self.broker.partial_fill_probability
        ideal = self.broker.ideal  # documented: the ideal broker never splits a fill
        if ideal or chance <= 0 or order.time_in_force == "fok" or order.notional is not None:
            return qty
        # drawn from the order's own history, not a shared stream: concurrent requests reach the
        # engine in a thread-timing order, and a shared stream would make runs irreproducible
        key = (self.seed, "partial", order.client_order_id, str(order.filled_qty), str(qty))
        happens, size = uniforms(*key, count=2)
        if qty <= 1 or happens >= chance:
            return qty
        if qty == qty.to_integral_value():
            return Decimal(1 + int(size * (int(qty) - 1)))
        share = Decimal(repr(0.1 + 0.8 * size))
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
