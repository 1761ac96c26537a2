"""Price maths shared by the quote-pegging policies: quote guards, tick rounding, the collar.

Every function is pure and works in ``Decimal``. Sides: a buy's *near* touch is the bid and its
*far* touch the ask; a sell's are the ask and the bid.
"""

from __future__ import annotations

from decimal import Decimal

from rebalance_executor.domain.broker import Quote, Side
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.executor.policies.base import PolicyInput, round_to_tick, tick_size
from rebalance_executor.executor.sizing import quote_problem as sizing_quote_problem

BPS = Decimal(10_000)


def _opposite(side: Side) -> Side:
    return Side.SELL if side is Side.BUY else Side.BUY


def quote_problem(state: PolicyInput, config: ExecutionConfig) -> str | None:
    """Why the live quote must not be priced off (None when it is usable): the sizing rules
    (:func:`~rebalance_executor.executor.sizing.quote_problem`) applied to the policy input."""
    return sizing_quote_problem(state.quote, state.now, config)


def near_touch(quote: Quote, side: Side) -> Decimal:
    return quote.bid if side is Side.BUY else quote.ask


def far_touch(quote: Quote, side: Side) -> Decimal:
    return quote.ask if side is Side.BUY else quote.bid


def passive_price(quote: Quote, side: Side, aggressiveness: Decimal) -> Decimal:
    """A price ``aggressiveness`` of the way from the near touch (0) to the far touch (1),
    rounded to the tick on the passive side (buys down, sells up)."""
    spread = quote.ask - quote.bid
    raw = (
        quote.bid + aggressiveness * spread
        if side is Side.BUY
        else quote.ask - aggressiveness * spread
    )
    return round_to_tick(raw, side)


def spread_bps(quote: Quote) -> Decimal:
    """The quoted spread in bps of the mid (quotes reaching here are guarded: mid > 0)."""
    return (quote.ask - quote.bid) / quote.mid * BPS


def inside_price(quote: Quote, side: Side, aggressiveness: Decimal) -> Decimal | None:
    """:func:`passive_price`, but strictly inside the spread: at least one tick better than the
    near touch (first in line for trade prints, not behind the displayed queue) and at least one
    tick short of the far touch. None when the spread is under two ticks (no such price)."""
    near, far = near_touch(quote, side), far_touch(quote, side)
    tick = tick_size(min(quote.bid, quote.ask))
    if quote.ask - quote.bid < 2 * tick:
        return None
    price = passive_price(quote, side, aggressiveness)
    if side is Side.BUY:
        return min(max(price, near + tick), far - tick)
    return max(min(price, near - tick), far + tick)


def is_strictly_inside(limit: Decimal | None, quote: Quote) -> bool:
    """True when ``limit`` lies strictly between the bid and the ask (either side)."""
    return limit is not None and quote.bid < limit < quote.ask


def through_far(quote: Quote, side: Side, buffer_bps: Decimal) -> Decimal:
    """A marketable price ``buffer_bps`` through the far touch, rounded away from the book
    (buys up, sells down) so rounding never makes it non-marketable."""
    far = far_touch(quote, side)
    sign = 1 if side is Side.BUY else -1
    return round_to_tick(far * (1 + sign * buffer_bps / BPS), _opposite(side))


def collar_bound(arrival_mid: Decimal, side: Side, collar_bps: Decimal) -> Decimal:
    """The worst price the collar allows: arrival x (1 + collar) for a buy (rounded down),
    arrival x (1 - collar) for a sell (rounded up)."""
    sign = 1 if side is Side.BUY else -1
    return round_to_tick(arrival_mid * (1 + sign * collar_bps / BPS), side)


def within(price: Decimal, bound: Decimal, side: Side) -> bool:
    """True when ``price`` is no worse than ``bound`` for ``side``."""
    return price <= bound if side is Side.BUY else price >= bound


def clamp(price: Decimal, bound: Decimal, side: Side) -> Decimal:
    """``price`` moved back to ``bound`` when it is worse than it."""
    return min(price, bound) if side is Side.BUY else max(price, bound)


def is_marketable(limit: Decimal | None, quote: Quote, side: Side) -> bool:
    """True when a limit at ``limit`` would execute against the current far touch."""
    if limit is None:
        return False
    return within(far_touch(quote, side), limit, side)
