"""Market-data feeds: which feed a request gets, and the single-venue ``iex`` quote.

``sip`` is the NBBO: the very quote path orders fill against (``SymbolMarket.quote``). ``iex`` is
one exchange's top of book (IEX, ~2-3 % of US equity volume), modelled as a pure function of
(seed, symbol, step) derived from the NBBO path, so every policy sees the same iex quotes:

* **stale, sometimes**: in normal times IEX's book refreshes about once a second
  (``refresh_per_s``); *quiet spells* (no IEX update; ``quiet_per_s``, lasting ``quiet_s``)
  freeze the iex quote and its timestamp at the last refresh before the spell;
* **wider and offset**: each side sits ``k`` units behind the NBBO side (``k`` geometric with
  ratio ``behind_ratio``; a unit is the larger of one tick and half the NBBO spread), drawn per
  side at each refresh, so the iex mid is offset from the NBBO mid;
* **one-sided, sometimes**: *no-bid* and *no-ask spells* (``one_sided_per_s`` per side, lasting
  ``one_sided_s``): that side is price 0, size 0 ("no bid" / "no ask");
* **thin**: displayed sizes are a fraction (``size_share_*``) of the NBBO sizes.

Conditions come in spells rather than independent draws per quote because a missing IEX order or
a quiet IEX book persists for seconds to minutes; spells are drawn per block of time (see
:func:`spell_start`), so everything stays a pure function of (seed, symbol, step).

Sources: Alpaca market-data docs (IEX is a single exchange, ~2.5 % of volume; free plans get iex,
``sip`` needs a subscription, "subscription does not permit querying recent SIP data" is a 403);
alpaca-java #91 and alpaca-py #475 (iex quotes far wider than the NBBO, one-sided with a 0 bid or
ask, differing from what paper orders fill against). The numbers are modelling choices within
those reports, not measurements; they are documented in the simulator README.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from alpaca_sim.errors import BAD_REQUEST, FORBIDDEN, ApiError
from alpaca_sim.market import QuoteTick, SymbolMarket, tick_size

IEX = "iex"
SIP = "sip"
SERVED_FEEDS = (IEX, SIP)
UNSERVED_SUBSCRIPTION_FEEDS = ("otc", "boats", "overnight")
SIP_FORBIDDEN = "subscription does not permit querying recent SIP data"
# Alpaca's free plan may query sip data older than 15 minutes (market-data FAQ).
SIP_DELAY_S = 15 * 60


@dataclass(frozen=True)
class IexModel:
    """Parameters of the iex quote (see the module docstring); rates per simulated second."""

    refresh_per_s: float = 1.0
    quiet_per_s: float = 1 / 1800
    quiet_s: tuple[float, float] = (10.0, 60.0)
    one_sided_per_s: float = 1 / 3600
    one_sided_s: tuple[float, float] = (5.0, 30.0)
    behind_ratio: float = 0.5
    size_share_low: float = 0.05
    size_share_high: float = 0.30


IEX_MODEL = IexModel()


def resolve_feed(feed: str | None, *, sip_entitled: bool, historical: bool = False) -> str:
    """The feed a request is served from.

    Absent: ``sip`` when the account is entitled to it, ``iex`` otherwise (Alpaca's documented
    default). Raises ApiError 403 for ``sip`` without a subscription and for the subscription
    feeds the simulator has no data for (``otc``, ``boats``, ``overnight``: no OTC or overnight
    session is simulated), 400 for ``delayed_sip`` (not simulated) and for any value Alpaca
    does not know. A ``historical`` request (bars) may name ``sip`` without a subscription:
    :func:`check_recent_sip` then refuses only its last 15 minutes.
    """
    if feed is None or feed == "":
        return SIP if sip_entitled else IEX
    if feed == SIP and not sip_entitled and not historical:
        raise ApiError(403, FORBIDDEN, SIP_FORBIDDEN)
    if feed in UNSERVED_SUBSCRIPTION_FEEDS:
        raise ApiError(403, FORBIDDEN, f"subscription does not permit querying {feed} data")
    if feed not in SERVED_FEEDS:
        raise ApiError(400, BAD_REQUEST, "invalid feed")
    return feed


def check_recent_sip(feed: str, end: datetime, now: datetime, *, sip_entitled: bool) -> None:
    """A free plan may read sip history only up to 15 minutes ago (403 otherwise)."""
    if feed == SIP and not sip_entitled and (now - end).total_seconds() < SIP_DELAY_S:
        raise ApiError(403, FORBIDDEN, SIP_FORBIDDEN)


def uniforms(*key: object, count: int) -> list[float]:
    """``count`` uniforms in [0, 1), a pure function of ``key`` (no RNG state is shared)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8 * count).digest()
    return [int.from_bytes(digest[8 * i : 8 * i + 8], "big") / 2.0**64 for i in range(count)]


_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash of an integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def stream(*key: object) -> int:
    """A 64-bit stream id for ``key``; :func:`draw` then gives per-step uniforms cheaply (the
    look-backs below draw hundreds per quote)."""
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "big")


def draw(stream_id: int, step: int, index: int = 0) -> float:
    """Uniform in [0, 1): a pure function of (stream, step, index)."""
    return _mix(stream_id ^ _mix(((step << 4) + index) & _MASK)) / 2.0**64


def nbbo_at(market: SymbolMarket, step: int) -> QuoteTick:
    """The NBBO in force at ``step`` (the first live quote for steps before it)."""
    if step >= market.quote.step:
        return market.quote
    history = market.history
    index = bisect.bisect_right(history, step, key=lambda q: q.step)
    return history[index - 1] if index > 0 else history[0]


def spell_start(
    key: tuple[object, ...], step: int, step_s: float, rate_per_s: float, span: tuple[float, float]
) -> int | None:
    """The first step of a spell covering ``step``, or None.

    Spells start at ``rate_per_s`` and last uniformly ``span`` seconds. Time is cut into blocks
    as long as the longest spell, each holding at most one start (probability rate x block), so
    only the step's block and the one before can cover it: two draws instead of a look-back.
    """
    block = max(1, math.ceil(span[1] / step_s))
    start_p = rate_per_s * step_s * block
    stream_id = stream(*key)
    for index in (step // block, step // block - 1):
        if draw(stream_id, index) >= start_p:
            continue
        start = index * block + int(draw(stream_id, index, 1) * block)
        length_s = span[0] + (span[1] - span[0]) * draw(stream_id, index, 2)
        if start <= step and (step - start) * step_s < length_s:
            return start
    return None


def refresh_step(seed: int, symbol: str, step: int, step_s: float, model: IexModel) -> int:
    """The last step at or before ``step`` at which IEX's book refreshed."""
    quiet = spell_start((seed, symbol, "iex-quiet"), step, step_s, model.quiet_per_s, model.quiet_s)
    latest = step if quiet is None else quiet - 1
    refresh_p = 1.0 - math.exp(-model.refresh_per_s * step_s)
    refreshes = stream(seed, symbol, "iex-refresh")
    for back in range(int(60.0 / step_s) + 1):
        if draw(refreshes, latest - back) < refresh_p:
            return latest - back
    return latest


def _absent(key: tuple[object, ...], step: int, step_s: float, model: IexModel) -> bool:
    """Whether IEX shows no order on the side named by ``key`` at ``step``."""
    return spell_start(key, step, step_s, model.one_sided_per_s, model.one_sided_s) is not None


def _behind_units(u: float, ratio: float) -> int:
    """Geometric count: P(k) = (1 - ratio) ratio^k."""
    return int(math.log(max(u, 1e-300)) / math.log(ratio)) if ratio > 0 else 0


def iex_quote(
    market: SymbolMarket,
    seed: int,
    step_s: float,
    time_of_step: Callable[[int], datetime],
    model: IexModel = IEX_MODEL,
) -> QuoteTick:
    """The iex quote at the market's current step (see the module docstring).

    ``time_of_step`` stamps the refresh step (the caller owns the clock); a halted symbol's
    quote is never newer than its NBBO.
    """
    step = refresh_step(seed, market.symbol, market.quote.step, step_s, model)
    nbbo = nbbo_at(market, step)
    draws = uniforms(seed, market.symbol, "iex-quote", step, count=4)
    tick = tick_size(nbbo.bid)
    unit = max(tick, ((nbbo.ask - nbbo.bid) / 2 / tick).to_integral_value() * tick)
    bid = nbbo.bid - _behind_units(draws[0], model.behind_ratio) * unit
    ask = nbbo.ask + _behind_units(draws[1], model.behind_ratio) * unit
    span = model.size_share_high - model.size_share_low
    bid_size = Decimal(
        max(1, round(float(nbbo.bid_size) * (model.size_share_low + span * draws[2])))
    )
    ask_size = Decimal(
        max(1, round(float(nbbo.ask_size) * (model.size_share_low + span * draws[3])))
    )
    if bid <= 0 or _absent((seed, market.symbol, "iex-no-bid"), step, step_s, model):
        bid, bid_size = Decimal(0), Decimal(0)
    if _absent((seed, market.symbol, "iex-no-ask"), step, step_s, model):
        ask, ask_size = Decimal(0), Decimal(0)
    at = time_of_step(step)
    if market.halted:
        at = min(at, market.quote.at)
    return QuoteTick(market.symbol, step, at, bid, ask, bid_size, ask_size)
