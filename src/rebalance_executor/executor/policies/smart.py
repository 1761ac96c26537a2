"""The ``smart`` policy (SPEC §4.5): passive inside the spread, re-pegged on a schedule with rising
aggressiveness, then a marketable order for the remainder, never beyond the price collar.

Schedule, on the seconds elapsed in the phase's working window (``t``):
- ``interval = min(repeg_interval_s, final_cross_fraction x window / (max_repegs + 1))`` — the
  ladder compresses to fit short windows (the deadline wind-down of §4.7);
- level ``k = min(floor(t / interval), max_repegs)``; the limit sits ``start + k x step`` of the
  spread from the near touch, re-pegged to the live quote at most once per ``interval``;
- at ``t >= (max_repegs + 1) x interval`` (which is never later than ``final_cross_fraction`` of
  the window) the remainder goes marketable: a limit ``cross_buffer_bps`` through the far touch,
  capped at the collar (or a market order when ``cross_with_market``).

Guards: on a missing, stale, crossed or too-wide quote the live order is held and nothing new is
sent. The collar is ``arrival_mid x (1 ± MAX_COLLAR_BPS)``: prices are clamped to it, and when the
market itself has run through it (the near touch while passive, the far touch when crossing) the
item stops with ``Reason.COLLAR`` instead of chasing.
"""

from __future__ import annotations

import math
from decimal import Decimal

from rebalance_executor.domain.broker import OrderType, Quote
from rebalance_executor.domain.config import ExecutionConfig, SmartSchedule
from rebalance_executor.domain.result import Reason
from rebalance_executor.executor.policies.base import (
    KEEP,
    MARKET,
    Desired,
    DesiredKind,
    PolicyInput,
    stop,
)
from rebalance_executor.executor.policies.pricing import (
    clamp,
    collar_bound,
    far_touch,
    is_marketable,
    near_touch,
    passive_price,
    quote_problem,
    through_far,
    within,
)

# Window assumed when the caller does not say (only the un-compressed schedule applies then).
_UNKNOWN_WINDOW_S = math.inf
# How soon a live marketable limit is looked at again: it should have executed already.
CROSS_RECHECK_S = 2.0


def schedule_interval(schedule: SmartSchedule, window_s: float | None) -> float:
    """The effective re-peg interval for a working window of ``window_s`` seconds."""
    window = _UNKNOWN_WINDOW_S if window_s is None else window_s
    fitted = float(schedule.final_cross_fraction) * window / (schedule.max_repegs + 1)
    return max(1e-9, min(schedule.repeg_interval_s, fitted))


class SmartPolicy:
    """Quote-pegged limit ladder with a collar-bounded final cross."""

    name = "smart"
    uses_live_quotes = True

    def decide(self, state: PolicyInput, config: ExecutionConfig) -> Desired:
        """The order the item should have live now; STOP(COLLAR) when the market ran away."""
        if quote_problem(state, config) is not None or state.quote is None:
            return KEEP
        quote, side = state.quote, state.side
        arrival = state.arrival_quote.mid if state.arrival_quote is not None else quote.mid
        bound = collar_bound(arrival, side, config.max_collar_bps)
        near = near_touch(quote, side)
        if not within(near, bound, side):
            return stop(Reason.COLLAR, _collar_detail("near touch", near, arrival, bound))
        schedule = config.smart
        interval = schedule_interval(schedule, state.window_s)
        if state.elapsed_s >= interval * (schedule.max_repegs + 1) or (
            state.window_s is not None and state.elapsed_fraction >= schedule.final_cross_fraction
        ):
            return _cross(state, quote, bound, arrival, schedule)
        live = state.live_order
        if live is not None and (state.live_order_age_s or 0.0) < interval:
            return KEEP
        level = min(int(state.elapsed_s // interval), schedule.max_repegs)
        aggressiveness = min(
            Decimal(1), schedule.start_aggressiveness + level * schedule.step_aggressiveness
        )
        price = clamp(passive_price(quote, side, aggressiveness), bound, side)
        return Desired(DesiredKind.LIMIT, limit_price=price)

    def next_decision_s(self, state: PolicyInput, config: ExecutionConfig) -> float | None:
        """0.0 without a live order or a usable quote; else the time until the live order is
        due for its re-peg or the cross point comes, whichever is first; once crossing, a short
        re-check of a marketable limit (the market may have moved off it), None for a live
        market order."""
        live, quote = state.live_order, state.quote
        if live is None or quote is None or quote_problem(state, config) is not None:
            return 0.0
        schedule = config.smart
        interval = schedule_interval(schedule, state.window_s)
        cross_at = interval * (schedule.max_repegs + 1)
        if state.window_s is not None:
            cross_at = min(cross_at, float(schedule.final_cross_fraction) * state.window_s)
        if state.elapsed_s < cross_at:
            age = state.live_order_age_s or 0.0
            return max(0.0, min(interval - age, cross_at - state.elapsed_s))
        if live.type is OrderType.MARKET:
            return None
        if not schedule.cross_with_market and is_marketable(live.limit_price, quote, state.side):
            return CROSS_RECHECK_S
        return 0.0


def _cross(
    state: PolicyInput, quote: Quote, bound: Decimal, arrival: Decimal, schedule: SmartSchedule
) -> Desired:
    side, live = state.side, state.live_order
    far = far_touch(quote, side)
    if not within(far, bound, side):
        return stop(Reason.COLLAR, _collar_detail("far touch", far, arrival, bound))
    if schedule.cross_with_market:
        return MARKET
    if (
        live is not None
        and live.type is OrderType.LIMIT
        and is_marketable(live.limit_price, quote, side)
    ):
        return KEEP  # already marketable: let it execute instead of chasing tick by tick
    price = clamp(through_far(quote, side, schedule.cross_buffer_bps), bound, side)
    return Desired(DesiredKind.LIMIT, limit_price=price)


def _collar_detail(what: str, price: Decimal, arrival: Decimal, bound: Decimal) -> str:
    return (
        f"market ran through the price collar: {what} {price} vs arrival mid "
        f"{arrival.quantize(Decimal('0.0001'))} (collar bound {bound})"
    )
