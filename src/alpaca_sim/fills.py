"""The fill model (documented in README.md): pure functions, no state.

* Taker (market, or a limit that is marketable on arrival): fills at the far touch up to the
  displayed size still available in this step; beyond it the order walks a synthetic book whose
  levels are each one displayed size deep and ``IMPACT_BPS_PER_LEVEL`` worse than the previous
  one. A limit stops walking at its limit price; a market order always completes (levels past
  ``MAX_LEVELS`` all trade at the last level's price).
* Resting limit, quote cross: when the opposite quote reaches the limit, the order fills at its
  own limit price, up to the displayed opposite size still available in this step.
* Resting limit, trade print: a modelled print on the order's side of the book (a sell-aggressor
  print for a buy) fills orders priced strictly better than the touch first, at their limit; an
  order AT the touch is behind the displayed queue and only gets what the print leaves over.
Every fill is labelled with its ``trigger`` (``TAKER`` / ``QUOTE`` / ``PRINT``: which of the three
rules above produced it), so execution quality can be split by fill mechanism.
Liquidity consumed in a step is remembered until the next step, so two orders in the same step do
not both get the touch. Nothing here moves the mid.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from alpaca_sim.market import QuoteTick, TradePrint, tick_size

IMPACT_BPS_PER_LEVEL = Decimal("5")
MAX_LEVELS = 50
BPS = Decimal(10_000)
QTY_QUANTUM = Decimal("0.000000001")
# Fill triggers: an arriving taker, a resting limit reached by the opposite quote, or by a print.
TAKER = "taker"
QUOTE = "quote"
PRINT = "print"
TRIGGERS = (TAKER, QUOTE, PRINT)
FORCED = "forced"  # a fill forced through the control API (tests), not a market mechanism


@dataclass(frozen=True)
class Fill:
    qty: Decimal
    price: Decimal
    liquidity: str  # "taker" or "maker"
    trigger: str  # TAKER, QUOTE or PRINT (TRIGGERS)


def level_price(side: str, quote: QuoteTick, level: int) -> Decimal:
    """Price of synthetic level ``level`` (0 = touch) for an aggressor on ``side``."""
    touch = quote.ask if side == "buy" else quote.bid
    if level == 0:
        return touch
    tick = tick_size(touch)
    shift = touch * IMPACT_BPS_PER_LEVEL * level / BPS
    if side == "buy":
        return ((touch + shift) / tick).to_integral_value(ROUND_CEILING) * tick
    return max(tick, ((touch - shift) / tick).to_integral_value(ROUND_FLOOR) * tick)


def _levels(side: str, quote: QuoteTick, consumed: Decimal) -> Iterator[tuple[Decimal, Decimal]]:
    """Yield (price, available qty) per level, starting past what this step already consumed."""
    depth = quote.ask_size if side == "buy" else quote.bid_size
    pos = consumed
    while True:
        level = int(pos // depth)
        if level >= MAX_LEVELS:
            yield level_price(side, quote, MAX_LEVELS), Decimal("Infinity")
            return
        avail = (level + 1) * depth - pos
        yield level_price(side, quote, level), avail
        pos += avail


def _crosses(side: str, price: Decimal, limit: Decimal | None) -> bool:
    if limit is None:
        return True
    return price <= limit if side == "buy" else price >= limit


def sweep(
    side: str,
    quote: QuoteTick,
    consumed: Decimal,
    *,
    qty: Decimal | None,
    notional: Decimal | None = None,
    limit: Decimal | None = None,
) -> list[Fill]:
    """Taker fills for ``qty`` shares (or ``notional`` dollars) against ``quote``.

    Returns an empty list when the limit is not marketable. Notional orders fill fractional
    shares rounded down to 9 decimals.
    """
    fills: list[Fill] = []
    want_qty = qty
    want_value = notional
    for price, avail in _levels(side, quote, consumed):
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


def cross_fill(
    side: str, limit: Decimal, remaining: Decimal, quote: QuoteTick, consumed: Decimal
) -> Fill | None:
    """A resting limit reached by the opposite quote fills at its limit, up to displayed size."""
    touch = quote.ask if side == "buy" else quote.bid
    if not _crosses(side, touch, limit):
        return None
    displayed = quote.ask_size if side == "buy" else quote.bid_size
    take = min(remaining, max(Decimal(0), displayed - consumed))
    return Fill(take, limit, "maker", QUOTE) if take > 0 else None


def print_reach(side: str, limit: Decimal, quote: QuoteTick, trade: TradePrint) -> str | None:
    """Whether a trade print reaches a resting limit: "better" (priced inside the spread, first in
    line, fills at its limit), "touch" (at the touch, behind the displayed queue) or None.

    Only prints whose aggressor is on the other side reach a resting order: sell-aggressor prints
    for buys, buy-aggressor prints for sells.
    """
    if (side == "buy") == (trade.aggressor == "buy"):
        return None
    touch = quote.bid if side == "buy" else quote.ask
    if limit == touch:
        return "touch"
    better = limit > touch if side == "buy" else limit < touch
    return "better" if better else None


def print_fill(qty: Decimal, limit: Decimal) -> Fill:
    """The fill a print gives a resting limit it reaches: at the order's own limit."""
    return Fill(qty, limit, "maker", PRINT)


def displayed_queue(side: str, quote: QuoteTick) -> Decimal:
    """Displayed size ahead of an order resting at the touch on ``side``."""
    return quote.bid_size if side == "buy" else quote.ask_size
