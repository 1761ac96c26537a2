"""The exogenous tape of one symbol (SPEC §7.2; README "The market").

Per step of ``step_s`` simulated seconds:

1. **Takers** arrive per side as Poisson(``trades_per_min`` / 2 per minute); a side's volume is
   the sum of exponential trade sizes of mean ``avg_trade_size``, drawn at once as
   Gamma(count, mean). They trade against the quote in force during the step.
2. **Latent price** (log): drift, a Gaussian news part carrying (1 - ``trade_impact_share``) of
   the variance, and a trade part ``LAMBDA x (buy volume - sell volume)`` carrying the rest, so the
   mid moves linearly in order-flow imbalance (Cont, Kukanov & Stoikov 2014).
3. **Quote** on the tick grid around the latent price: the spread is 1 + Poisson(``spread_ticks``
   - 1) ticks; each touch keeps its queue while its price stays (lit taker volume depletes it,
   it refills towards ``depth``) and gets a fresh queue (Gamma(2), mean ``depth``) when it moves.

Everything is drawn from the symbol's own ``random.Random("{seed}:{symbol}")`` in a fixed order,
so the tape is a pure function of (seed, symbol, step) and identical for every policy: our
orders never touch it (their fills, queue positions and impact live in the engine).
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from alpaca_sim.scenario import SymbolSpec

# 252 trading days of 6.5 hours: annualised volatility and drift are per trading-year.
TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600
HISTORY_LEN = 20_000
CENT = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")
# Share of taker volume that trades on lit exchanges against displayed quotes (and so reaches a
# resting order of ours): ~56 % of US consolidated volume prints on exchanges, ~44 % off exchange
# (wholesaler internalisation, ATSs; Cboe U.S. equities market share, 2023-24).
LIT_SHARE = 0.5
# Touch queues refill towards ``depth`` with this time constant (seconds).
QUEUE_REFILL_S = 5.0


def tick_size(price: Decimal) -> Decimal:
    """Minimum price increment (Reg NMS: $0.01 at or above $1, $0.0001 below)."""
    return CENT if price >= 1 else SUB_PENNY


@dataclass(frozen=True)
class QuoteTick:
    """Top of book at one step. ``at`` is when the quote last changed (stale when halted)."""

    symbol: str
    step: int
    at: datetime
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


@dataclass(frozen=True)
class StepFlow:
    """The takers of one step: buyers lift ``before.ask``, sellers hit ``before.bid`` (the quote
    in force during the step); ``low``/``high`` of the latent price are the step's two ends."""

    step: int
    at: datetime
    before: QuoteTick
    buy_count: int
    buy_volume: float
    sell_count: int
    sell_volume: float
    start: float  # latent price at the start of the step
    end: float  # latent price at the end of the step


def poisson(rng: random.Random, mean: float, no_event: float) -> int:
    """Poisson(``mean``) by inversion with one uniform (``no_event`` = exp(-mean)); a normal
    approximation above 500 (exp would underflow; the error there is negligible)."""
    if mean > 500:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    u = rng.random()
    count, term = 0, no_event
    cumulative = term
    while u > cumulative and term > 0:
        count += 1
        term *= mean / count
        cumulative += term
    return count


def flow_impact(spec: SymbolSpec) -> float:
    """Log-price move per share of taker imbalance (the same for every step length).

    The trade part carries ``trade_impact_share`` of the variance: per second the imbalance
    (buy - sell volume) has variance rate x E[size^2] = rate x 2 size^2 (exponential sizes), so
    impact^2 x rate x 2 size^2 = share x volatility^2 / TRADING_SECONDS_PER_YEAR.
    """
    rate_per_s = float(spec.trades_per_min) / 60.0
    share = float(spec.trade_impact_share)
    if rate_per_s <= 0 or share <= 0:
        return 0.0
    size = float(spec.avg_trade_size)
    return float(spec.volatility) * math.sqrt(
        share / (2.0 * size**2 * rate_per_s * TRADING_SECONDS_PER_YEAR)
    )


def taker_volume(rng: random.Random, count: int, mean_size: float) -> float:
    """Whole shares traded by ``count`` takers of exponential size (at least one share each)."""
    if count == 0:
        return 0.0
    return float(max(count, round(rng.gammavariate(count, mean_size))))


class SymbolMarket:
    """The tape of one symbol. Not thread-safe: the engine holds its lock."""

    def __init__(self, symbol: str, spec: SymbolSpec, seed: int, step_s: float, t0: datetime):
        self.symbol = symbol
        self.spec = spec
        self.step_s = step_s
        self._rng = random.Random(f"{seed}:{symbol}")
        self.latent = float(spec.price)
        vol, dt = float(spec.volatility), step_s / TRADING_SECONDS_PER_YEAR
        rate_per_s = float(spec.trades_per_min) / 60.0
        self.step_variance = vol**2 * dt  # of the log price, news and trades together
        self._log_drift = (float(spec.drift) - 0.5 * vol**2) * dt
        self.impact_per_share = flow_impact(spec)
        news_share = 1.0 - float(spec.trade_impact_share) if self.impact_per_share > 0 else 1.0
        self._news_scale = math.sqrt(news_share * self.step_variance)
        self._side_mean = rate_per_s * step_s / 2.0
        self._no_taker = math.exp(-min(self._side_mean, 500.0))
        self._size = float(spec.avg_trade_size)
        self._excess_mean = float(spec.spread_ticks) - 1.0
        self._no_excess = math.exp(-self._excess_mean)
        self._depth = float(spec.depth)
        self._refill = 1.0 - math.exp(-step_s / QUEUE_REFILL_S)
        self.halted = False
        self.bid_queue = self._fresh_queue()
        self.ask_queue = self._fresh_queue()
        self._bid_ticks, self._spread = self._place(
            1 + poisson(self._rng, self._excess_mean, self._no_excess)
        )
        self.quote = self._make_quote(0, t0)
        self.history: deque[QuoteTick] = deque([self.quote], maxlen=HISTORY_LEN)
        # market data only (never read by matching): the pre-history ends at the first quote and
        # the tape keeps every step that had takers
        self.first_quote = self.quote
        self.tape: deque[StepFlow] = deque(maxlen=HISTORY_LEN)

    @property
    def tick(self) -> float:
        return 0.01 if self.latent >= 1 else 0.0001

    def _fresh_queue(self) -> float:
        # Gamma(2) of mean ``depth``: -ln(u1 u2) is Gamma(2, 1)
        return max(
            1.0, self._depth * -math.log(self._rng.random() * self._rng.random() or 1e-300) / 2
        )

    def _place(self, spread: int) -> tuple[int, int]:
        """Bid (in ticks) and spread (ticks) centred on the latent price."""
        bid = math.floor(self.latent / self.tick - spread / 2 + 0.5)
        return max(1, bid), spread

    def _make_quote(self, step: int, at: datetime) -> QuoteTick:
        exponent = -2 if self.latent >= 1 else -4
        bid = Decimal(self._bid_ticks).scaleb(exponent)
        ask = Decimal(self._bid_ticks + self._spread).scaleb(exponent)
        bid_size = Decimal(max(1, round(self.bid_queue)))
        ask_size = Decimal(max(1, round(self.ask_queue)))
        return QuoteTick(self.symbol, step, at, bid, ask, bid_size, ask_size)

    def step(self, step: int, at: datetime, frozen: bool) -> StepFlow | None:
        """Advance to ``step``; returns its takers (None when nothing moved).

        A frozen market or halted symbol keeps its quote and trades nothing; a frozen quote is
        re-stamped (it is fresh, just unchanging), a halted one is not (it goes stale).
        """
        if self.halted:
            self.quote = replace(self.quote, step=step)
            return None
        if frozen:
            self.quote = replace(self.quote, step=step, at=at)
            return None
        rng = self._rng
        buys = poisson(rng, self._side_mean, self._no_taker)
        sells = poisson(rng, self._side_mean, self._no_taker)
        buy_volume = taker_volume(rng, buys, self._size)
        sell_volume = taker_volume(rng, sells, self._size)
        start = self.latent
        self.latent = start * math.exp(
            self._log_drift
            + self._news_scale * rng.gauss(0.0, 1.0)
            + self.impact_per_share * (buy_volume - sell_volume)
        )
        before = self.quote
        old_bid, old_ask = self._bid_ticks, self._bid_ticks + self._spread
        self._bid_ticks, self._spread = self._place(
            1 + poisson(rng, self._excess_mean, self._no_excess)
        )
        self.bid_queue = self._next_queue(self.bid_queue, self._bid_ticks == old_bid, sell_volume)
        ask_kept = self._bid_ticks + self._spread == old_ask
        self.ask_queue = self._next_queue(self.ask_queue, ask_kept, buy_volume)
        self.quote = self._make_quote(step, at)
        self.history.append(self.quote)
        flow = StepFlow(step, at, before, buys, buy_volume, sells, sell_volume, start, self.latent)
        if buys or sells:
            self.tape.append(flow)
        return flow

    def _next_queue(self, queue: float, kept: bool, taken: float) -> float:
        """A touch that stays loses its lit taker volume and refills; a new touch is fresh."""
        left = queue - LIT_SHARE * taken
        if not kept or left <= 0:
            return self._fresh_queue()
        return left + (self._depth - left) * self._refill

    def set_quote(
        self,
        bid: Decimal,
        ask: Decimal,
        bid_size: Decimal | None,
        ask_size: Decimal | None,
        at: datetime,
    ) -> QuoteTick:
        """Force the top of book; the tape (if running) continues from its mid."""
        if bid <= 0 or ask <= bid:
            raise ValueError("need 0 < bid < ask")
        self.latent = float((bid + ask) / 2)
        tick = tick_size(bid)
        self._bid_ticks = int(bid / tick)
        self._spread = max(1, int((ask - bid) / tick))
        if bid_size is not None:
            self.bid_queue = float(bid_size)
        if ask_size is not None:
            self.ask_queue = float(ask_size)
        self.quote = QuoteTick(
            self.symbol,
            self.quote.step,
            at,
            bid,
            ask,
            bid_size if bid_size is not None else self.quote.bid_size,
            ask_size if ask_size is not None else self.quote.ask_size,
        )
        self.history.append(self.quote)
        return self.quote
