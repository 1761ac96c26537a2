"""The smart policy's decision rules (SPEC §4.5), each a pure function of the policy input.

- :func:`take_now_reason`: whether waiting costs more than it can earn, so the item is taken at
  once: the spread is under the gate, the mid already ran ``take_on_move_spreads`` arrival
  spreads, the recent trend against the trade would cost ``take_on_trend_halfspreads``
  half-spreads over the expected wait for a passive fill (the queue ahead plus the order at the
  recent volume rate, at most the passive phase still ahead), or the price moves
  ``take_on_volatility_spreads`` spreads in one standard deviation over the passive phase.
- :func:`passive_limit`: join the near touch or improve it by one tick. Joining waits behind the
  displayed queue but saves the most when filled; improving puts nothing ahead of the order.
  On a one-tick spread there is nothing to improve: join. Wider, join when the spread is at most
  ``join_max_spread_ticks`` and the queue ahead plus the order would trade within
  ``join_max_wait_s`` at the recent volume rate.
- :func:`target_moved`: a resting order is re-pegged only when the price the policy would now
  choose is more than ``repeg_move_spreads`` of the spread away from it: the touch moved past
  it (no queue place left) or away from it. Otherwise it keeps its place in the queue.
"""

from __future__ import annotations

from decimal import Decimal

from rebalance_executor.domain.broker import Quote, Side
from rebalance_executor.domain.config import SmartSchedule
from rebalance_executor.executor.policies.base import PolicyInput, tick_size
from rebalance_executor.executor.policies.pricing import (
    inside_price,
    near_touch,
    spread_bps,
)

_TWO = Decimal(2)
_SECONDS_PER_MINUTE = Decimal(60)


def take_now_reason(
    state: PolicyInput, quote: Quote, schedule: SmartSchedule, passive_left_s: float
) -> str | None:
    """Why the item should be taken now instead of worked passively (None: work it)."""
    spread = spread_bps(quote)
    if spread < schedule.min_passive_spread_bps:
        return "spread under the gate"
    if _moved_too_far(state, quote, schedule.take_on_move_spreads):
        return "mid moved from arrival"
    activity = state.activity
    if activity is None or passive_left_s <= 0:
        return None
    trend_k = schedule.take_on_trend_halfspreads
    if trend_k > 0:
        per_min = activity.adverse_trend_bps(state.side, schedule.trend_z)
        wait_s = min(Decimal(str(passive_left_s)), _expected_wait_s(state, quote, schedule))
        if per_min * wait_s / _SECONDS_PER_MINUTE >= trend_k * spread / _TWO:
            return "trend against the trade"
    vol_k = schedule.take_on_volatility_spreads
    if vol_k > 0 and activity.move_bps(passive_left_s) >= vol_k * spread:
        return "volatility over the spread"
    return None


def _moved_too_far(state: PolicyInput, quote: Quote, spreads: Decimal) -> bool:
    """True when the mid is ``spreads`` arrival spreads or more from the arrival mid."""
    arrival = state.arrival_quote
    if spreads <= 0 or arrival is None or not arrival.is_two_sided:
        return False
    return abs(quote.mid - arrival.mid) >= spreads * (arrival.ask - arrival.bid)


def passive_limit(state: PolicyInput, quote: Quote, schedule: SmartSchedule, level: int) -> Decimal:
    """The passive limit at re-peg ``level`` (0 = the first order).

    A spread under two ticks has no price inside it: join the near touch. Wider: at a level
    without a step (``level x step_aggressiveness`` = 0) join when :func:`joins` says so;
    otherwise improve, strictly inside the spread: ``start + level x step`` of the spread from
    the near touch, at least one tick better than it and at least one tick short of the far
    touch.
    """
    near = near_touch(quote, state.side)
    step = level * schedule.step_aggressiveness
    if step == 0 and joins(state, quote, schedule):
        return near
    aggressiveness = min(Decimal(1), schedule.start_aggressiveness + step)
    inside = inside_price(quote, state.side, aggressiveness)
    return near if inside is None else inside


def joins(state: PolicyInput, quote: Quote, schedule: SmartSchedule) -> bool:
    """True when the order should join the near touch rather than improve it: always on a
    spread under two ticks; otherwise when the spread is at most ``join_max_spread_ticks``
    wide and the displayed queue plus the order would trade within ``join_max_wait_s`` at the
    recent volume rate (half of it taking each side). Improving a wide spread gives up a small
    share of it for a place no queue stands ahead of; on a narrow one it gives up half."""
    tick = tick_size(min(quote.bid, quote.ask))
    ticks = (quote.ask - quote.bid) / tick
    if ticks < 2:
        return True
    if ticks > schedule.join_max_spread_ticks or schedule.join_max_wait_s <= 0:
        return False
    wait_s = _queue_wait_s(state, quote, joining=True)
    return wait_s is not None and wait_s <= Decimal(str(schedule.join_max_wait_s))


def _queue_wait_s(state: PolicyInput, quote: Quote, *, joining: bool) -> Decimal | None:
    """Seconds until the queue ahead (the displayed size when joining, none when improving)
    plus the order would trade at the recent volume rate, half of it on each side; None without
    a volume rate."""
    activity = state.activity
    per_side_s = Decimal(0) if activity is None else activity.volume_per_s() / _TWO
    if per_side_s <= 0:
        return None
    queue = quote.bid_size if state.side is Side.BUY else quote.ask_size
    return ((queue if joining else Decimal(0)) + state.remaining_qty) / per_side_s


def _expected_wait_s(state: PolicyInput, quote: Quote, schedule: SmartSchedule) -> Decimal:
    """How long the passive order is expected to wait for its fill (inf without a volume
    rate): the waiting the trend rule charges drift for."""
    wait_s = _queue_wait_s(state, quote, joining=joins(state, quote, schedule))
    return Decimal("Infinity") if wait_s is None else wait_s


def target_moved(limit: Decimal, target: Decimal, quote: Quote, spreads: Decimal) -> bool:
    """True when the price the policy would choose now is more than ``spreads`` of the live
    spread away from the resting ``limit``, either way: the touch moved past the order (others
    stand ahead at a better price and takers reach them first) or away from it (the order now
    pays more than it needs). Within the margin the order keeps its place in the queue, and a
    wide, noisy quote (a thin name's spread is redrawn every step) does not re-peg it on every
    flicker of the touch."""
    return abs(target - limit) > spreads * (quote.ask - quote.bid)
