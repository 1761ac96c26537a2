"""The fill rules (README "Fill model"): pure functions, no state.

* ``taker``: a market order, or a limit marketable on arrival, takes the far touch up to its
  displayed size still available in this step, then walks the book beyond it: levels on the tick
  grid, ``level_spacing`` ticks apart, each ``depth`` shares deep. A limit stops at its limit; a
  market order always completes (levels past ``MAX_LEVELS`` trade at the last level's price).
  Our own earlier impact (``shift``, a private overlay) moves the levels against us.
* ``flow``: opposite takers of a step reach a resting limit through the queue: at the touch they
  first consume the queue ahead of it; inside the spread nothing is ahead. Either way only the lit
  share of them can reach it (:func:`reached_volume`). Fills at the order's limit.
* ``path``: within a step the latent price follows a Brownian bridge between the step's two ends;
  an order whose limit the opposite quote's path reached fills in full at its limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from alpaca_sim.market import QuoteTick, tick_size

MAX_LEVELS = 50
QTY_QUANTUM = Decimal("0.000000001")
TAKER = "taker"  # an arriving market or marketable order
FLOW = "flow"  # a taker reached our resting order through the queue
PATH = "path"  # the quote's path ran through our resting limit
TRIGGERS = (TAKER, FLOW, PATH)
FORCED = "forced"  # a fill forced through the control API (tests), not a market mechanism


@dataclass(frozen=True)
class Fill:
    qty: Decimal
    price: Decimal
    liquidity: str  # "taker" or "maker"
    trigger: str  # one of TRIGGERS (or FORCED)


@dataclass(frozen=True)
class Book:
    """What a taker of ours meets beyond the touch: ``depth`` shares a level, ``spacing`` ticks
    apart, every level moved by ``shift`` dollars (our own decaying impact: up after our buys),
    rounded to the nearest tick."""

    depth: Decimal
    spacing: int
    shift: Decimal = Decimal(0)


def level_spacing(quote: QuoteTick) -> int:
    """Ticks between book levels beyond the touch: half the quoted spread, at least one tick."""
    tick = tick_size(quote.bid)
    return max(1, int((quote.ask - quote.bid) / tick) // 2)


def level_price(side: str, quote: QuoteTick, level: int, book: Book) -> Decimal:
    """Price of level ``level`` (0 = touch) for an aggressor on ``side``."""
    touch = quote.ask if side == "buy" else quote.bid
    tick = tick_size(touch)
    moved = touch + (book.shift / tick).to_integral_value(ROUND_HALF_EVEN) * tick
    offset = level * book.spacing * tick
    return moved + offset if side == "buy" else max(tick, moved - offset)


def _levels(
    side: str, quote: QuoteTick, consumed: Decimal, book: Book
) -> Iterator[tuple[Decimal, Decimal]]:
    """Yield (price, available qty) per level, starting past what this step already consumed."""
    touch_size = quote.ask_size if side == "buy" else quote.bid_size
    level, pos = 0, consumed
    if pos < touch_size:
        yield level_price(side, quote, 0, book), touch_size - pos
        pos = touch_size
    while True:
        level = 1 + int((pos - touch_size) // book.depth)
        if level >= MAX_LEVELS:
            yield level_price(side, quote, MAX_LEVELS, book), Decimal("Infinity")
            return
        avail = touch_size + level * book.depth - pos
        yield level_price(side, quote, level, book), avail
        pos += avail


def _crosses(side: str, price: Decimal, limit: Decimal | None) -> bool:
    if limit is None:
        return True
    return price <= limit if side == "buy" else price >= limit


def sweep(
    side: str,
    quote: QuoteTick,
    consumed: Decimal,
    book: Book,
    *,
    qty: Decimal | None,
    notional: Decimal | None = None,
    limit: Decimal | None = None,
) -> list[Fill]:
    """Taker fills for ``qty`` shares (or ``notional`` dollars) against ``quote`` and ``book``.

    Returns an empty list when the limit is not marketable. Notional orders fill fractional
    shares rounded down to 9 decimals.
    """
    fills: list[Fill] = []
    want_qty, want_value = qty, notional
    for price, avail in _levels(side, quote, consumed, book):
        if not _crosses(side, price, limit):
            break
        if want_qty is not None:
            take = min(want_qty, avail)
            want_qty -= take
        else:
            assert want_value is not None  # one of qty/notional is always given
            take = min(avail, (want_value / price).quantize(QTY_QUANTUM, ROUND_FLOOR))
            want_value -= take * price
        if take > 0:
            fills.append(Fill(take, price, "taker", TAKER))
        if (want_qty is not None and want_qty <= 0) or take < avail:
            break
    return fills


def bridge_extreme(start: float, end: float, variance: float, u: float, *, low: bool) -> float:
    """The minimum (``low``) or maximum of a Brownian bridge in log price from ``start`` to
    ``end`` with total ``variance``, drawn by inversion of P(min < b) = exp(-2 (a - b)(c - b) / v)
    with the uniform ``u``."""
    a, c = math.log(start), math.log(end)
    spread = math.sqrt((c - a) ** 2 - 2.0 * variance * math.log(max(u, 1e-300)))
    return math.exp((a + c - spread) / 2 if low else (a + c + spread) / 2)


def path_reaches(side: str, limit: Decimal, before: QuoteTick, extreme: float) -> bool:
    """Whether the opposite quote's path reached ``limit``: the ask (latent + half the spread in
    force, on the tick grid) fell to a buy limit, or the bid rose to a sell limit."""
    tick = float(tick_size(before.bid))
    half = float(before.ask - before.bid) / 2
    if side == "buy":
        return extreme < float(limit) - half + tick / 2
    return extreme > float(limit) + half - tick / 2


def crossed(side: str, limit: Decimal, quote: QuoteTick) -> bool:
    """The quote itself runs through a resting limit (ask <= buy limit, bid >= sell limit)."""
    return quote.ask <= limit if side == "buy" else quote.bid >= limit


def queue_place(side: str, limit: Decimal, quote: QuoteTick) -> str | None:
    """Where a resting limit sits against ``quote``: "touch", "better" (inside the spread) or
    None (behind the touch, or crossing)."""
    touch = quote.bid if side == "buy" else quote.ask
    if limit == touch:
        return "touch"
    inside = touch < limit < quote.ask if side == "buy" else quote.bid < limit < touch
    return "better" if inside else None


def reached_count(count: int, share: float, u: float) -> int:
    """How many of ``count`` takers reach a lit resting order: Binomial(count, share) by
    inversion with the uniform ``u``."""
    if count == 0 or share <= 0:
        return 0
    if share >= 1:
        return count
    term = (1.0 - share) ** count
    cumulative, k, ratio = term, 0, share / (1.0 - share)
    while u > cumulative and k < count:
        term *= ratio * (count - k) / (k + 1)
        k += 1
        cumulative += term
    return k


def reached_volume(count: int, volume: float, share: float, u: float) -> float:
    """Volume of the takers that reach us: their expected share of the side's volume."""
    if count == 0:
        return 0.0
    return volume * reached_count(count, share, u) / count


def maker_fill(qty: Decimal, limit: Decimal, trigger: str) -> Fill:
    """A resting order's fill: at its own limit (no price improvement: conservative)."""
    return Fill(qty, limit, "maker", trigger)
