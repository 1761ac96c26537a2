"""The ``anchor`` policy: the reference system's order working as it really behaves (SPEC §4.5).

Measured by running alchemiser-quant ``execution_v2`` @2084fe1 against the simulator; prices from
its ``smart_execution_strategy/pricing.py`` and defaults from ``models.py`` at that commit:

- ``0 <= t < 14 s``: a limit at bid + $0.01 (buy) / ask - $0.01 (sell), kept inside the spread
  and no further than the mid: on a one-tick spread that is the near touch itself (it joins the
  bid / the ask). Held unchanged: the reference's first fill check finds the order younger than
  its 10 s ``fill_wait_seconds``, so its one re-peg comes at the next check, ≈ 14 s;
- ``14 s <= t < 24 s``: one re-peg to max(halfway from the old limit to the ask, ask + $0.02)
  for a buy, min(halfway to the bid, bid - $0.02) for a sell (``allow_cross_spread_on_repeg``
  true, ``repeg_min_improvement_cents`` $0.02): it crosses the spread. The halfway point is below
  ask + $0.02 whenever the old limit was not marketable, so in practice the re-peg is the far
  touch ± $0.02;
- ``t >= 24 s``: a market order (``max_repegs_per_order`` 2: the second look escalates).

``t`` is seconds into the phase's working window (the phase's items start together). Prices
are rounded to the tick (buys down, sells up). Like the reference it has no collar; unlike it,
it does not price off an unusable quote (stale/crossed/too wide): it holds the live order and
waits. One deliberate difference: the market order is for the remainder only (the reference
re-sends the full original quantity and over-fills after a partial fill; docs/executor.md).
"""

from __future__ import annotations

from decimal import Decimal

from rebalance_executor.domain.broker import OrderType, Quote, Side
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.executor.policies.base import (
    KEEP,
    MARKET,
    Desired,
    DesiredKind,
    PolicyInput,
    round_to_tick,
)
from rebalance_executor.executor.policies.pricing import quote_problem

REPEG_AFTER_S = 14.0
MARKET_AFTER_S = 24.0
_CENT = Decimal("0.01")
_THROUGH = Decimal("0.02")


def anchor_price(quote: Quote, side: Side) -> Decimal:
    """The first limit: one cent inside the near touch, kept inside the spread and no further
    than the mid (so on a one-tick spread it joins the near touch), tick-rounded."""
    if side is Side.BUY:
        price = quote.bid + _CENT
        if price >= quote.ask:
            price = max(quote.ask - _CENT, quote.bid)
        return round_to_tick(min(price, quote.mid), side)
    price = quote.ask - _CENT
    if price <= quote.bid:
        price = min(quote.ask, quote.bid + _CENT)
    return round_to_tick(max(price, quote.mid), side)


def repeg_price(quote: Quote, side: Side, old_limit: Decimal | None = None) -> Decimal:
    """The one re-peg: halfway from ``old_limit`` (default: :func:`anchor_price` on ``quote``)
    to the far touch, but at least $0.02 through it; tick-rounded."""
    old = anchor_price(quote, side) if old_limit is None else old_limit
    if side is Side.BUY:
        return round_to_tick(max(old + (quote.ask - old) / 2, quote.ask + _THROUGH), side)
    return round_to_tick(min(old - (old - quote.bid) / 2, quote.bid - _THROUGH), side)


class AnchorPolicy:
    """Reference behaviour: near touch + 1¢, one re-peg through the far touch at 14 s, market
    at 24 s."""

    name = "anchor"
    uses_live_quotes = True

    def recent_bars_minutes(self, config: ExecutionConfig, quote: Quote | None) -> int:
        return 0

    def decide(self, state: PolicyInput, config: ExecutionConfig) -> Desired:
        t = state.elapsed_s
        if t >= MARKET_AFTER_S:
            return MARKET
        if quote_problem(state, config) is not None or state.quote is None:
            return KEEP
        live, age = state.live_order, state.live_order_age_s
        if t < REPEG_AFTER_S:
            if live is not None:
                return KEEP
            return Desired(DesiredKind.LIMIT, limit_price=anchor_price(state.quote, state.side))
        if live is not None and age is not None and age <= t - REPEG_AFTER_S:
            return KEEP  # already placed (or re-pegged) during this stage
        old = live.limit_price if live is not None else None
        return Desired(DesiredKind.LIMIT, limit_price=repeg_price(state.quote, state.side, old))

    def next_decision_s(self, state: PolicyInput, config: ExecutionConfig) -> float | None:
        """The next stage mark (14 s, 24 s) while the stage's order is live; 0.0 when no order is
        live, the quote kept the stage's order from being placed, or the market stage wants one;
        None once a market order is live."""
        t, live, age = state.elapsed_s, state.live_order, state.live_order_age_s
        if live is None:
            return 0.0
        if t >= MARKET_AFTER_S:
            return None if live.type is OrderType.MARKET else 0.0
        if t < REPEG_AFTER_S:
            return REPEG_AFTER_S - t
        if age is not None and age <= t - REPEG_AFTER_S:
            return MARKET_AFTER_S - t  # this stage's re-peg is live
        return 0.0
