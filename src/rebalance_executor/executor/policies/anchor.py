"""The ``anchor`` policy: the reference system's order working, kept for comparison (SPEC §4.5).

- ``0 <= t < 10 s``: a limit at bid + $0.01 (buy) / ask - $0.01 (sell), held unchanged;
- ``10 s <= t < 20 s``: one re-peg, to the point halfway between that price and a price 2¢ through
  the far side (buy: ask + $0.02; sell: bid - $0.02), computed on the live quote;
- ``t >= 20 s``: a market order for the remainder.

``t`` is seconds into the phase's working window. Prices are rounded to the tick (buys down,
sells up). Like the reference, it has no collar; unlike it, it does not price off an unusable
quote (stale/crossed/too wide): it holds the live order and waits.
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

REPEG_AFTER_S = 10.0
MARKET_AFTER_S = 20.0
_CENT = Decimal("0.01")
_THROUGH = Decimal("0.02")


def anchor_prices(quote: Quote, side: Side) -> tuple[Decimal, Decimal]:
    """(initial limit, re-peg limit) for ``side`` on ``quote``, tick-rounded."""
    if side is Side.BUY:
        first = quote.bid + _CENT
        second = first + (quote.ask + _THROUGH - first) / 2
    else:
        first = quote.ask - _CENT
        second = first - (first - (quote.bid - _THROUGH)) / 2
    return round_to_tick(first, side), round_to_tick(second, side)


class AnchorPolicy:
    """Reference behaviour: near touch + 1¢, one re-peg after 10 s, market after 20 s."""

    name = "anchor"
    uses_live_quotes = True

    def decide(self, state: PolicyInput, config: ExecutionConfig) -> Desired:
        t = state.elapsed_s
        if t >= MARKET_AFTER_S:
            return MARKET
        if quote_problem(state, config) is not None or state.quote is None:
            return KEEP
        first, second = anchor_prices(state.quote, state.side)
        live, age = state.live_order, state.live_order_age_s
        if t < REPEG_AFTER_S:
            return KEEP if live is not None else Desired(DesiredKind.LIMIT, limit_price=first)
        if live is not None and age is not None and age <= t - REPEG_AFTER_S:
            return KEEP  # already placed (or re-pegged) during this stage
        return Desired(DesiredKind.LIMIT, limit_price=second)

    def next_decision_s(self, state: PolicyInput, config: ExecutionConfig) -> float | None:
        """The next stage mark (10 s, 20 s) while the stage's order is live; 0.0 when no order is
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
