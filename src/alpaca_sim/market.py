"""The seeded quote process: one random-walk mid per symbol, advanced in fixed simulated steps.

Quote paths are a pure function of (seed, symbol, step): each symbol owns a ``random.Random``
seeded from ``f"{seed}:{symbol}"`` and draws the same numbers in the same order whatever the order
flow does. Fills never move the mid (impact is charged on the fill, not persisted), so different
execution policies see identical markets for the same seed.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from alpaca_sim.scenario import SymbolSpec

# 252 trading days of 6.5 hours: annualised volatility and drift are per trading-year.
TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600
HISTORY_LEN = 20_000
CENT = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")


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
class TradePrint:
    """A modelled market trade: ``aggressor`` "sell" trades at the bid, "buy" at the ask."""

    symbol: str
    step: int
    aggressor: str
    size: Decimal


def _round_to(value: float, tick: Decimal, rounding: str) -> Decimal:
    return (Decimal(repr(value)) / tick).to_integral_value(rounding=rounding) * tick


class SymbolMarket:
    """The quote process for one symbol. Not thread-safe: the engine holds its lock."""

    def __init__(self, symbol: str, spec: SymbolSpec, seed: int, step_s: float, t0: datetime):
        self.symbol = symbol
        self.spec = spec
        self._rng = random.Random(f"{seed}:{symbol}")
        self._mid = float(spec.price)
        vol = float(spec.volatility)
        dt = step_s / TRADING_SECONDS_PER_YEAR
        # Per-step constants, computed once with the same float operations (and operand order)
        # a per-step evaluation would use, so the path is bit-for-bit the same, only cheaper.
        self._log_drift = (float(spec.drift) - 0.5 * vol**2) * dt
        self._log_scale = vol * math.sqrt(dt)
        self._spread_bps = float(spec.spread_bps)
        self._depth = float(spec.depth)
        self._no_print = math.exp(-(float(spec.trade_rate_per_min) * step_s / 60.0))
        self.halted = False
        self.quote = self._make_quote(0, t0)
        self.history: deque[QuoteTick] = deque([self.quote], maxlen=HISTORY_LEN)
        # market data only (never read by matching): the pre-history ends at the first quote and
        # the tape is every print with the quote it traded against
        self.first_quote = self.quote
        self.tape: deque[tuple[QuoteTick, TradePrint]] = deque(maxlen=HISTORY_LEN)

    def _make_quote(self, step: int, at: datetime) -> QuoteTick:
        mid = self._mid
        # same as tick_size(Decimal(repr(mid))): a float's shortest repr is >= 1 iff it is
        tick = CENT if mid >= 1 else SUB_PENNY
        half = mid * self._spread_bps / 20_000.0
        bid = max(tick, _round_to(mid - half, tick, ROUND_FLOOR))
        ask = _round_to(mid + half, tick, ROUND_CEILING)
        if ask <= bid:
            ask = bid + tick
        depth = self._depth
        bid_size = Decimal(max(1, round(depth * (0.5 + self._rng.random()))))
        ask_size = Decimal(max(1, round(depth * (0.5 + self._rng.random()))))
        return QuoteTick(self.symbol, step, at, bid, ask, bid_size, ask_size)

    def step(self, step: int, at: datetime, frozen: bool) -> list[TradePrint]:
        """Advance to ``step``; returns the modelled trade prints of that step.

        A frozen market or halted symbol keeps its quote and prints nothing; a frozen quote is
        re-stamped (it is fresh, just unchanging), a halted one is not (it goes stale).
        """
        if self.halted:
            self.quote = replace(self.quote, step=step)
            return []
        if frozen:
            self.quote = replace(self.quote, step=step, at=at)
            return []
        z = self._rng.gauss(0.0, 1.0)
        self._mid *= math.exp(self._log_drift + self._log_scale * z)
        self.quote = self._make_quote(step, at)
        self.history.append(self.quote)
        prints = self._prints(step)
        self.tape.extend((self.quote, p) for p in prints)
        return prints

    def _prints(self, step: int) -> list[TradePrint]:
        # Poisson arrivals by inversion: the count is drawn from this symbol's own stream.
        count = 0
        threshold = self._no_print
        product = self._rng.random()
        while product > threshold:
            count += 1
            product *= self._rng.random()
        prints = []
        mean_size = self._depth / 2.0
        for _ in range(count):
            aggressor = "buy" if self._rng.random() < 0.5 else "sell"
            size = Decimal(max(1, round(self._rng.expovariate(1.0 / mean_size))))
            prints.append(TradePrint(self.symbol, step, aggressor, size))
        return prints

    def set_quote(
        self,
        bid: Decimal,
        ask: Decimal,
        bid_size: Decimal | None,
        ask_size: Decimal | None,
        at: datetime,
    ) -> QuoteTick:
        """Force the top of book; the random walk (if running) continues from its mid."""
        if bid <= 0 or ask <= bid:
            raise ValueError("need 0 < bid < ask")
        self._mid = float((bid + ask) / 2)
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
