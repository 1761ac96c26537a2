"""The ``smart`` policy (SPEC §4.5): rest at the near touch (join, or improve by one tick) while
waiting pays, re-pegged when the touch leaves the order, then take at the far touch, never beyond
the price collar.

Phases, on the seconds elapsed in the phase's working window (``t``) and the schedule
(:class:`~rebalance_executor.domain.config.SmartSchedule`):

- ``interval = min(repeg_interval_s, final_cross_fraction x window / (max_repegs + 1))`` — the
  ladder compresses to fit short windows (the deadline wind-down of §4.7);
- *passive* until ``(max_repegs + 1) x interval`` (never later than ``final_cross_fraction`` of
  the window), unless a take-at-once rule fires (spread gate, a move from arrival, the recent
  trend or volatility against the spread: :func:`~.smart_rules.take_now_reason`). The price is
  :func:`~.smart_rules.passive_limit` at level ``k`` (the interval count): join the near touch
  or improve it by one tick. A resting order keeps its place while it is at or better than the
  near touch (queue position is what a passive order has) and is re-pegged at once when the
  touch moves past it, or at the next level when that gives another price;
- *take*: a limit ``cross_buffer_bps`` through the far touch (0 = at it: fills the displayed
  size without walking the book), re-pegged to the new far touch when the quote moves away;
- *finish* from ``finish_fraction`` of the window: ``finish_buffer_bps`` through the far touch
  (or a market order when ``cross_with_market``, which also makes *take* a market order).

Guards: on a missing, stale, crossed or too-wide quote the live order is held and nothing new is
sent; a fresh one-sided quote is completed with the item's reference on its missing side
(:func:`~rebalance_executor.executor.policies.pricing.working_quote`). The collar is
``arrival x (1 ± MAX_COLLAR_BPS)`` (arrival: the arrival quote's mid, or the item's reference when
that quote was not two-sided): prices are clamped to it, and when the market itself has run
through it (the near touch while passive, the far touch when taking) the item stops with
``Reason.COLLAR`` instead of chasing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

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
    tick_size,
)
from rebalance_executor.executor.policies.pricing import (
    arrival_price,
    clamp,
    collar_bound,
    far_touch,
    is_marketable,
    near_touch,
    through_far,
    within,
    working_quote,
)
from rebalance_executor.executor.policies.smart_rules import (
    passive_limit,
    take_now_reason,
    target_moved,
)

# Window assumed when the caller does not say (only the un-compressed schedule applies then).
_UNKNOWN_WINDOW_S = math.inf


class Phase(StrEnum):
    PASSIVE = "passive"
    TAKE = "take"
    FINISH = "finish"


@dataclass(frozen=True)
class _Clock:
    """Where the item is on the schedule: its time-based phase and when that phase ends."""

    phase: Phase
    interval: float
    until_next_phase_s: float  # inf when no later phase is scheduled
    passive_left_s: float  # seconds of the passive phase still ahead (0 once it is over)


def schedule_interval(schedule: SmartSchedule, window_s: float | None) -> float:
    """The effective re-peg interval for a working window of ``window_s`` seconds."""
    window = _UNKNOWN_WINDOW_S if window_s is None else window_s
    fitted = float(schedule.final_cross_fraction) * window / (schedule.max_repegs + 1)
    return max(1e-9, min(schedule.repeg_interval_s, fitted))


def _clock(state: PolicyInput, schedule: SmartSchedule) -> _Clock:
    interval = schedule_interval(schedule, state.window_s)
    t = state.elapsed_s
    window = _UNKNOWN_WINDOW_S if state.window_s is None else state.window_s
    take_at = min(
        interval * (schedule.max_repegs + 1), float(schedule.final_cross_fraction) * window
    )
    finish_at = float(schedule.finish_fraction) * window
    if state.window_s is not None and state.elapsed_fraction >= schedule.finish_fraction:
        return _Clock(Phase.FINISH, interval, math.inf, 0.0)
    if t >= take_at or (
        state.window_s is not None and state.elapsed_fraction >= schedule.final_cross_fraction
    ):
        return _Clock(Phase.TAKE, interval, finish_at - t, 0.0)
    return _Clock(Phase.PASSIVE, interval, take_at - t, take_at - t)


class SmartPolicy:
    """Passive at the near touch while waiting pays, then a far-touch take, then a
    collar-bounded finish."""

    name = "smart"
    uses_live_quotes = True

    def recent_bars_minutes(self, config: ExecutionConfig, quote: Quote | None) -> int:
        """``SMART_BARS_MINUTES``, except for a two-sided quote under two ticks wide: the order
        joins that touch whatever the bars say, and its queue trades within seconds, so the
        trend rule has no wait to charge (one request fewer for a plan of such names)."""
        one_tick = (
            quote is not None
            and quote.is_two_sided
            and quote.ask - quote.bid < 2 * tick_size(quote.bid)
        )
        return 0 if one_tick else config.smart.bars_minutes

    def decide(self, state: PolicyInput, config: ExecutionConfig) -> Desired:
        """The order the item should have live now; KEEP on an unusable quote; STOP(COLLAR)
        when the market ran through the collar."""
        quote = working_quote(state, config)
        if quote is None:
            return KEEP
        schedule = config.smart
        arrival = arrival_price(state) or quote.mid
        bound = collar_bound(arrival, state.side, config.max_collar_bps)
        clock = _clock(state, schedule)
        price = _passive_target(state, quote, schedule, clock)
        if price is None:
            finish = clock.phase is Phase.FINISH
            return _take(state, quote, bound, arrival, schedule, finish=finish)
        near = near_touch(quote, state.side)
        if not within(near, bound, state.side):
            return stop(Reason.COLLAR, _collar_detail("near touch", near, arrival, bound))
        return _passive(state, quote, clamp(price, bound, state.side), clock, schedule)

    def next_decision_s(self, state: PolicyInput, config: ExecutionConfig) -> float | None:
        """Seconds from now until decide() may want a different order: 0.0 = decide now (no
        live order, an unusable quote, or decide() already wants a change); None when only a
        fill or cancel can change anything (a market order is live)."""
        live = state.live_order
        if live is None or working_quote(state, config) is None:
            return 0.0
        desired = self.decide(state, config)
        if desired.kind is not DesiredKind.KEEP and not desired.matches(live):
            return 0.0
        if live.type is OrderType.MARKET:
            return None
        schedule = config.smart
        clock = _clock(state, schedule)
        # A resting limit can be obsoleted by any quote move (priority lost, quote moved away),
        # so the quote is re-checked at least every recheck_s.
        waits = [schedule.recheck_s, clock.until_next_phase_s]
        repeg_in = clock.interval - (state.live_order_age_s or 0.0)
        # An overdue re-peg that decide() keeps (the quote gives the same price) waits for the
        # next quote check instead of asking again on every tick.
        if clock.phase is Phase.PASSIVE and schedule.step_aggressiveness > 0 and repeg_in > 0:
            waits.append(repeg_in)
        return max(0.0, min(waits))


def _passive_target(
    state: PolicyInput, quote: Quote, schedule: SmartSchedule, clock: _Clock
) -> Decimal | None:
    """The passive limit for now, or None when the item should be taken instead (past the
    passive phase, or a take-at-once rule fired)."""
    if clock.phase is not Phase.PASSIVE:
        return None
    if take_now_reason(state, quote, schedule, clock.passive_left_s) is not None:
        return None
    level = min(int(state.elapsed_s // clock.interval), schedule.max_repegs)
    return passive_limit(state, quote, schedule, level)


def _passive(
    state: PolicyInput, quote: Quote, price: Decimal, clock: _Clock, schedule: SmartSchedule
) -> Desired:
    """Keep a resting order while it holds its place: re-peg it when the target moved more than
    the margin, or at a new level that adds a step."""
    live = state.live_order
    if live is None:
        return Desired(DesiredKind.LIMIT, limit_price=price)
    if live.type is not OrderType.LIMIT or live.limit_price is None:
        return KEEP
    if is_marketable(live.limit_price, quote, state.side):
        return KEEP  # executing against the quote now: let it
    new_level = (
        schedule.step_aggressiveness > 0 and (state.live_order_age_s or 0.0) >= clock.interval
    )
    if new_level or target_moved(live.limit_price, price, quote, schedule.repeg_move_spreads):
        return Desired(DesiredKind.LIMIT, limit_price=price)
    return KEEP


def _take(
    state: PolicyInput,
    quote: Quote,
    bound: Decimal,
    arrival: Decimal,
    schedule: SmartSchedule,
    *,
    finish: bool,
) -> Desired:
    side, live = state.side, state.live_order
    far = far_touch(quote, side)
    if not within(far, bound, side):
        return stop(Reason.COLLAR, _collar_detail("far touch", far, arrival, bound))
    if schedule.cross_with_market:
        return MARKET
    buffer = schedule.finish_buffer_bps if finish else schedule.cross_buffer_bps
    price = clamp(through_far(quote, side, buffer), bound, side)
    if live is None:
        return Desired(DesiredKind.LIMIT, limit_price=price)
    if live.type is OrderType.MARKET:
        return KEEP
    # Already marketable: let it execute instead of chasing tick by tick; the finish still
    # replaces a limit less aggressive than its own so the remainder may walk the book.
    if is_marketable(live.limit_price, quote, side) and (
        not finish or (live.limit_price is not None and within(price, live.limit_price, side))
    ):
        return KEEP
    return Desired(DesiredKind.LIMIT, limit_price=price)


def _collar_detail(what: str, price: Decimal, arrival: Decimal, bound: Decimal) -> str:
    return (
        f"market ran through the price collar: {what} {price} vs arrival mid "
        f"{arrival.quantize(Decimal('0.0001'))} (collar bound {bound})"
    )
