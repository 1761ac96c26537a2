"""Trades and bars: the simulated tape and a pre-history before the simulator started.

* **Live trades** are the market's own takers (``SymbolMarket.tape``): the sellers of a step hit
  the bid and the buyers lift the ask of the quote in force during the step. The tape keeps them
  as *blocks* (``SimTrade.count`` prints of one side and step at one price, sellers 1 µs before
  buyers), so bars cost one record per side and step however many trades there were.
* **Pre-history** covers the ``PREHISTORY_MINUTES`` before the first quote: the same process as
  the live market (takers per side, the latent price's news and trade parts, tick-grid quotes) in
  one-minute steps, run *backwards* from the first quote's mid so that it ends exactly there.
  A pure function of (seed, symbol, spec, first quote).
* **Venues**: each print's exchange is drawn by its approximate share of US consolidated volume
  (``VENUES``); the ``iex`` feed sees only IEX prints (``V``): a block keeps Binomial(count,
  IEX share) of its prints and the same share of its volume.
* **Bars** aggregate blocks into time buckets aligned on the epoch (UTC): open, high, low, close,
  volume, trade count, VWAP. A bucket without trades has no bar, as on Alpaca.
* **Latest trade**: the last print of the feed's last block; its size is one exponential trade of
  mean ``avg_trade_size`` (at most the block), drawn from the block's own hash.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from alpaca_sim.feeds import IEX, uniforms
from alpaca_sim.fills import reached_count
from alpaca_sim.market import (
    TRADING_SECONDS_PER_YEAR,
    QuoteTick,
    StepFlow,
    SymbolMarket,
    flow_impact,
    poisson,
    taker_volume,
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
    """``count`` prints at one price and instant (one print when 1); ``size`` is their volume;
    ``trade_id`` is microseconds since the pre-history began."""

    at: datetime
    price: Decimal
    size: Decimal
    venue: str
    trade_id: int
    count: int = 1


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


IEX_SHARE = dict(VENUES)[IEX_VENUE]


def _quote_prices(latent: float, spread: int) -> tuple[Decimal, Decimal]:
    """Bid and ask on the tick grid around ``latent`` (as the live market places them)."""
    tick, exponent = (0.01, -2) if latent >= 1 else (0.0001, -4)
    bid = max(1, math.floor(latent / tick - spread / 2 + 0.5))
    return Decimal(bid).scaleb(exponent), Decimal(bid + spread).scaleb(exponent)


def _block(at: datetime, start: datetime, price: Decimal, volume: float, count: int) -> SimTrade:
    trade_id = (at - start) // MICROSECOND
    return SimTrade(at, price, Decimal(int(volume)), "", trade_id, count)


@functools.lru_cache(maxsize=512)
def prehistory(seed: int, symbol: str, spec: SymbolSpec, first: QuoteTick) -> tuple[SimTrade, ...]:
    """The pre-history tape of ``symbol`` (see the module docstring), oldest first."""
    rng = random.Random(f"{seed}:{symbol}:prehistory")
    vol, step_s = float(spec.volatility), 60.0
    dt = step_s / TRADING_SECONDS_PER_YEAR
    impact = flow_impact(spec)
    news = math.sqrt((1.0 - float(spec.trade_impact_share) if impact > 0 else 1.0) * vol**2 * dt)
    log_drift = (float(spec.drift) - 0.5 * vol**2) * dt
    side_mean = float(spec.trades_per_min) * step_s / 120.0
    no_taker = math.exp(-min(side_mean, 500.0))
    excess = float(spec.spread_ticks) - 1.0
    size = float(spec.avg_trade_size)
    origin = first.at - timedelta(minutes=PREHISTORY_MINUTES)
    end = float(first.mid)
    blocks: list[SimTrade] = []
    for minute in range(PREHISTORY_MINUTES - 1, -1, -1):
        buys, sells = poisson(rng, side_mean, no_taker), poisson(rng, side_mean, no_taker)
        buy_volume = taker_volume(rng, buys, size)
        sell_volume = taker_volume(rng, sells, size)
        move = log_drift + news * rng.gauss(0.0, 1.0) + impact * (buy_volume - sell_volume)
        start = end / math.exp(move)
        bid, ask = _quote_prices(start, 1 + poisson(rng, excess, math.exp(-excess)))
        # stamped at the end of their minute, so no bar starts before the pre-history does
        at = origin + timedelta(minutes=minute + 1) - MICROSECOND
        if buys:
            blocks.append(_block(at, origin, ask, buy_volume, buys))
        if sells:
            blocks.append(_block(at - MICROSECOND, origin, bid, sell_volume, sells))
        end = start
    blocks.reverse()
    return tuple(replace(b, venue=_venue(seed, symbol, b)) for b in blocks)


def _venue(seed: int, symbol: str, block: SimTrade) -> str:
    """The venue of a block's last print."""
    return venue_for(uniforms(seed, symbol, "venue", block.trade_id, count=1)[0])


def _flow_blocks(flow: StepFlow, start: datetime) -> list[SimTrade]:
    blocks = []
    if flow.sell_count:
        price = flow.before.bid
        blocks.append(_block(flow.at, start, price, flow.sell_volume, flow.sell_count))
    if flow.buy_count:
        at = flow.at + MICROSECOND
        blocks.append(_block(at, start, flow.before.ask, flow.buy_volume, flow.buy_count))
    return blocks


def live_trades(market: SymbolMarket, seed: int) -> list[SimTrade]:
    """The market's recorded takers as blocks, oldest first."""
    start = origin(market)
    blocks = [b for flow in market.tape for b in _flow_blocks(flow, start)]
    return [replace(b, venue=_venue(seed, market.symbol, b)) for b in blocks]


def _on_iex(seed: int, symbol: str, block: SimTrade) -> SimTrade | None:
    """The IEX part of a block: Binomial(count, IEX share) prints and their share of volume."""
    u = uniforms(seed, symbol, "iex-prints", block.trade_id, count=1)[0]
    kept = reached_count(block.count, IEX_SHARE, u)
    if kept == 0:
        return None
    volume = max(Decimal(kept), (block.size * kept / block.count).to_integral_value())
    return replace(block, size=volume, count=kept, venue=IEX_VENUE)


def trades(market: SymbolMarket, seed: int, feed: str) -> list[SimTrade]:
    """Every block the feed has for the symbol, oldest first."""
    pre = prehistory(seed, market.symbol, market.spec, market.first_quote)
    every = [*pre, *live_trades(market, seed)]
    if feed == IEX:
        iex = (_on_iex(seed, market.symbol, t) for t in every)
        return [t for t in iex if t is not None]
    return every


def _newest_first(market: SymbolMarket, seed: int) -> Iterator[SimTrade]:
    start = origin(market)
    for flow in reversed(market.tape):
        for block in reversed(_flow_blocks(flow, start)):
            yield replace(block, venue=_venue(seed, market.symbol, block))
    yield from reversed(prehistory(seed, market.symbol, market.spec, market.first_quote))


def latest_trade(market: SymbolMarket, seed: int, feed: str) -> SimTrade | None:
    """The feed's last print: the last print of its last block (None if it has none)."""
    for block in _newest_first(market, seed):
        last = _on_iex(seed, market.symbol, block) if feed == IEX else block
        if last is None:
            continue
        u = uniforms(seed, market.symbol, "print-size", last.trade_id, count=1)[0]
        size = round(-math.log(max(u, 1e-300)) * float(market.spec.avg_trade_size))
        return replace(last, size=min(last.size, Decimal(max(1, size))), count=1)
    return None


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
    count = sum(t.count for t in group)
    return SimBar(
        at, prices[0], max(prices), min(prices), prices[-1], volume, count, value / volume
    )
