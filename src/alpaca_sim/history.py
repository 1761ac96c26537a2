"""Trades and bars: the simulated tape and a seeded pre-history before the simulator started.

* **Live trades** are the market's own modelled prints (``SymbolMarket.tape``), the very prints
  that fill resting orders: a buyer-initiated print trades at the ask, a seller-initiated one at
  the bid of the quote of its step. Prints of one step are a microsecond apart.
* **Pre-history** covers the ``PREHISTORY_MINUTES`` before the first quote: a geometric walk run
  *backwards* from the first quote's mid with the symbol's volatility and drift (one draw per
  minute, a Brownian bridge inside the minute), and prints with the same Poisson rate, sizes and
  touch prices as the live market. It ends exactly at the first live mid, so the last
  pre-history bar joins the live path. A pure function of (seed, symbol, scenario, first quote).
* **Venues**: each trade gets an exchange code drawn by its approximate share of US consolidated
  volume (``VENUES``); the ``iex`` feed sees only the trades printed on IEX (``V``).
* **Bars** aggregate trades into time buckets aligned on the epoch (UTC): open, high, low, close,
  volume, trade count, VWAP. A bucket without trades has no bar, as on Alpaca.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from alpaca_sim.feeds import IEX, uniforms
from alpaca_sim.market import (
    TRADING_SECONDS_PER_YEAR,
    QuoteTick,
    SymbolMarket,
    TradePrint,
    tick_size,
)
from alpaca_sim.scenario import SymbolSpec

PREHISTORY_MINUTES = 390  # one regular session
IEX_VENUE = "V"
# Approximate shares of US consolidated equity volume by venue (Cboe U.S. Equities market
# volume summary, 2023-24): off-exchange TRF (D) ~44 %, Nasdaq (Q), NYSE (N), Arca (P),
# EDGX (K), BZX (Z), IEX (V) ~2.5 %, BYX (Y), EDGA (J), MIAX Pearl (H).
VENUES: tuple[tuple[str, float], ...] = (
    ("D", 0.44),
    ("Q", 0.15),
    ("N", 0.09),
    ("P", 0.08),
    ("K", 0.07),
    ("Z", 0.06),
    (IEX_VENUE, 0.025),
    ("Y", 0.03),
    ("J", 0.03),
    ("H", 0.025),
)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class SimTrade:
    """One print of the tape; ``trade_id`` is microseconds since the pre-history began."""

    at: datetime
    price: Decimal
    size: Decimal
    venue: str
    trade_id: int


@dataclass(frozen=True)
class SimBar:
    """Trades aggregated over ``[at, at + timeframe)``."""

    at: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    count: int
    vwap: Decimal


def venue_for(u: float) -> str:
    """The venue whose cumulative share first exceeds ``u``."""
    total = 0.0
    for venue, share in VENUES:
        total += share
        if u < total:
            return venue
    return VENUES[-1][0]


def origin(market: SymbolMarket) -> datetime:
    """When the pre-history (and trade ids) begin."""
    return market.first_quote.at - timedelta(minutes=PREHISTORY_MINUTES)


def _touch(mid: float, spread_bps: float, aggressor: str) -> Decimal:
    """The touch a print of ``aggressor`` trades at, rounded outward as the live quotes are."""
    tick = tick_size(Decimal(repr(mid)))
    half = mid * spread_bps / 20_000.0
    bid = max(tick, (Decimal(repr(mid - half)) / tick).to_integral_value(ROUND_FLOOR) * tick)
    if aggressor == "sell":
        return bid
    ask = (Decimal(repr(mid + half)) / tick).to_integral_value(ROUND_CEILING) * tick
    return max(ask, bid + tick)


def _poisson(rng: random.Random, mean: float) -> int:
    count, product, threshold = 0, rng.random(), math.exp(-mean)
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


@functools.lru_cache(maxsize=512)
def prehistory(seed: int, symbol: str, spec: SymbolSpec, first: QuoteTick) -> tuple[SimTrade, ...]:
    """The pre-history tape of ``symbol`` (see the module docstring)."""
    rng = random.Random(f"{seed}:{symbol}:prehistory")
    vol = float(spec.volatility)
    dt = 60.0 / TRADING_SECONDS_PER_YEAR
    log_drift, log_scale = (float(spec.drift) - 0.5 * vol**2) * dt, vol * math.sqrt(dt)
    mean_size, rate = float(spec.depth) / 2.0, float(spec.trade_rate_per_min)
    start = first.at - timedelta(minutes=PREHISTORY_MINUTES)
    end_mid = float(first.mid)
    minutes: list[list[SimTrade]] = []
    for minute in range(PREHISTORY_MINUTES - 1, -1, -1):
        start_mid = end_mid / math.exp(log_drift + log_scale * rng.gauss(0.0, 1.0))
        bucket = []
        for frac in sorted(rng.random() for _ in range(_poisson(rng, rate))):
            bridge = log_scale * math.sqrt(frac * (1.0 - frac)) * rng.gauss(0.0, 1.0)
            mid = start_mid * (end_mid / start_mid) ** frac * math.exp(bridge)
            aggressor = "buy" if rng.random() < 0.5 else "sell"
            size = Decimal(max(1, round(rng.expovariate(1.0 / mean_size))))
            at = start + timedelta(minutes=minute + frac)
            price = _touch(mid, float(spec.spread_bps), aggressor)
            trade_id = (at - start) // MICROSECOND
            bucket.append(SimTrade(at, price, size, venue_for(rng.random()), trade_id))
        minutes.append(bucket)
        end_mid = start_mid
    return tuple(t for bucket in reversed(minutes) for t in bucket)


def live_trades(
    market: SymbolMarket, seed: int, entries: Iterable[tuple[QuoteTick, TradePrint]] | None = None
) -> list[SimTrade]:
    """The market's recorded prints as trades, oldest first (``entries``: only these, a tail of
    ``market.tape`` that starts at a step boundary — the live stream's new prints)."""
    start = origin(market)
    trades = []
    last_step, index = -1, 0
    for quote, trade in market.tape if entries is None else entries:
        index = index + 1 if trade.step == last_step else 0
        last_step = trade.step
        at = quote.at + index * MICROSECOND
        price = quote.ask if trade.aggressor == "buy" else quote.bid
        venue = venue_for(uniforms(seed, market.symbol, "venue", trade.step, index, count=1)[0])
        trades.append(SimTrade(at, price, trade.size, venue, (at - start) // MICROSECOND))
    return trades


def trades(market: SymbolMarket, seed: int, feed: str) -> list[SimTrade]:
    """Every trade the feed has for the symbol, oldest first."""
    pre = prehistory(seed, market.symbol, market.spec, market.first_quote)
    every = [*pre, *live_trades(market, seed)]
    if feed == IEX:
        return [t for t in every if t.venue == IEX_VENUE]
    return every


def parse_timeframe(text: str) -> timedelta | None:
    """Alpaca's ``timeframe`` (``1Min``..``59Min``, ``1Hour``..``23Hour``, ``1Day``), or None."""
    for unit, (limit, length) in {
        "Min": (59, timedelta(minutes=1)),
        "T": (59, timedelta(minutes=1)),
        "Hour": (23, timedelta(hours=1)),
        "H": (23, timedelta(hours=1)),
        "Day": (1, timedelta(days=1)),
        "D": (1, timedelta(days=1)),
    }.items():
        amount = text.removesuffix(unit)
        if amount != text and amount.isdigit() and 1 <= int(amount) <= limit:
            return int(amount) * length
    return None


def _bucket(at: datetime, frame: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((at - epoch) // frame) * frame


def aggregate(trades: Iterable[SimTrade], frame: timedelta) -> list[SimBar]:
    """Bars of ``frame`` from trades sorted by time; buckets without trades have no bar."""
    groups: dict[datetime, list[SimTrade]] = {}
    for trade in trades:
        groups.setdefault(_bucket(trade.at, frame), []).append(trade)
    return [_bar(at, group) for at, group in groups.items()]


def _bar(at: datetime, group: Sequence[SimTrade]) -> SimBar:
    prices = [t.price for t in group]
    volume = sum((t.size for t in group), Decimal(0))
    value = sum((t.price * t.size for t in group), Decimal(0))
    return SimBar(
        at, prices[0], max(prices), min(prices), prices[-1], volume, len(group), value / volume
    )
