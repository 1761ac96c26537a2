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


def arrival_price(state: PolicyInput) -> Decimal | None:
    """The collar's anchor: the arrival quote's mid when that quote was two-sided, else the
    item's sizing reference (a one-sided quote has no mid: half an ask is not a price)."""
    arrival = state.arrival_quote
    if arrival is not None and arrival.is_two_sided:
        return arrival.mid
    return state.reference


def working_quote(state: PolicyInput, config: ExecutionConfig) -> Quote | None:
    """The quote to price off now, or None (hold): the live quote when it is usable; a fresh
    one-sided quote completed with the reference on its missing side (docs/executor.md
    "Reference prices"); never a stale quote and never a side that is 0.

    Completing: a missing bid becomes ``min(reference, ask - tick)``, a missing ask
    ``max(reference, bid + tick)`` (rounded to the tick away from the shown side), so passive
    prices sit between the shown side and the reference and a take prices at the shown side
    (buy at the ask, sell at the bid) or at the reference; the collar still bounds every price.
    """
    quote, reference = state.quote, arrival_price(state)
    if quote is None or quote_problem(state, config) is None:
        return quote
    if reference is None or quote.has_bid == quote.has_ask or not _is_fresh(state, config):
        return None
    tick = tick_size(reference)
    if quote.has_ask:
        bid = min(round_to_tick(reference, Side.BUY), quote.ask - tick)
        return quote.model_copy(update={"bid": bid}) if bid > 0 else None
    ask = max(round_to_tick(reference, Side.SELL), quote.bid + tick)
    return quote.model_copy(update={"ask": ask})


def _is_fresh(state: PolicyInput, config: ExecutionConfig) -> bool:
    quote = state.quote
    if quote is None or state.now is None:
        return quote is not None
    return (state.now - quote.timestamp).total_seconds() <= config.quote_max_age_s


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
    near touch (first in line for arriving takers, not behind the displayed queue) and at least one
    tick short of the far touch. None when the spread is under two ticks (no such price)."""
    near, far = near_touch(quote, side), far_touch(quote, side)
    tick = tick_size(min(quote.bid, quote.ask))
    if quote.ask - quote.bid < 2 * tick:
        return None
    price = passive_price(quote, side, aggressiveness)
    if side is Side.BUY:
        return min(max(price, near + tick), far - tick)
    return max(min(price, near - tick), far + tick)


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
    far = far_touch(quote, side)
    if limit is None or far <= 0:  # no far side shown: nothing to execute against
        return False
    return within(far, limit, side)
