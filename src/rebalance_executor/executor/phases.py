"""The working loop of a phase (SPEC §4.3, §4.6, §4.7): all its items concurrently on one event
loop, batched polls paced by fill detection and the policy's decision schedule, and a wind-down
that leaves nothing of the plan live."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from rebalance_executor.domain.clock import nap
from rebalance_executor.domain.result import Reason
from rebalance_executor.executor.context import RunContext, Window
from rebalance_executor.executor.state import ItemState
from rebalance_executor.executor.working import (
    awaiting_cancel,
    awaiting_news,
    cancel_live,
    decision_due,
    in_flight,
    settle,
    step,
)

logger = logging.getLogger(__name__)

# Share of the deadline's wind-down reserve (stop_at..hard_at) cancels and final reads may use;
# the rest is for writing the result.
_WIND_DOWN_SHARE = 0.5
# Bounds the fill-detection backoff's exponent (the cap is MAX_POLL_INTERVAL_S anyway).
_MAX_DOUBLINGS = 16
# Longest a mid-run wind-down (e.g. the sell phase hitting sell_wait_max_s) may take.
_MID_RUN_WIND_DOWN_S = 30.0


async def run_phase(states: Sequence[ItemState], ctx: RunContext, stop_at: float) -> bool:
    """Work ``states`` until all are done or ``stop_at``; then cancel what is live and wait for
    the cancels to be final. Returns True when nothing of the phase is left live.

    First, when the policy reads recent bars, one request for the phase's symbols. Each tick:
    check the kill switch (engaged: no new order, cancel what is live), step every
    item (safety work always, the policy's decision when due), sleep
    until the fill-detection backoff, the earliest scheduled decision or the window's end,
    list orders (only when something is live), then fetch quotes for the items whose decision
    is now due (one multi-symbol call). Never raises BrokerError: trouble becomes item reasons.
    """
    window = Window(ctx.clock.monotonic(), min(stop_at, ctx.deadline.stop_at))
    ctx.tracker.register(states)
    await ctx.tracker.read_activity(states, ctx.policy, ctx.config)
    quiet_ticks = 0
    while True:
        active = [s for s in states if not settle(s, ctx)]
        if not active or window.over(ctx.clock):
            break
        if await ctx.kill_engaged():
            _stop_for_kill(active)
            break
        await asyncio.gather(*(step(s, ctx, window) for s in active))
        active = [s for s in active if not settle(s, ctx)]
        if not active:
            break
        stepped = {s.index: s.live_ids for s in active}
        await _wait(active, ctx, window, quiet_ticks)
        await _detect_fills(active, ctx)
        late = any(awaiting_news(s, ctx) for s in active)
        quiet_ticks = 0 if late else min(quiet_ticks + 1, _MAX_DOUBLINGS)
        active = [s for s in active if not settle(s, ctx)]
        _redecide_changed(active, stepped, ctx)
        await _refresh_quotes(active, ctx, window)
        ctx.sample_requests()
    unfinished = [s for s in states if not settle(s, ctx)]
    for state in unfinished:
        state.note_reason(Reason.DEADLINE, "working window ended with quantity unfilled")
    return await wind_down(unfinished, ctx)


def _stop_for_kill(states: Sequence[ItemState]) -> None:
    """Kill switch mid-phase: nothing more is sent; the wind-down cancels what is live."""
    logger.warning("kill_switch_mid_phase", extra={"symbols": [s.symbol for s in states]})
    for state in states:
        state.reason, state.detail = Reason.KILL_SWITCH, "kill switch engaged while working"
        state.target_qty = state.filled_qty


def _sleep_s(
    states: Sequence[ItemState], interval: float, ctx: RunContext, window: Window
) -> float:
    """Until the next fill-detection poll, the earliest decision scheduled in the future or the
    window's end, whichever comes first. A decision already due rides the next poll: the
    policy was just asked and found nothing to change (e.g. its quote was unusable)."""
    now = ctx.clock.monotonic()
    upcoming = [s.decide_at - now for s in states if s.decide_at > now]
    return min([interval, window.remaining(ctx.clock), *upcoming])


async def _wait(
    states: Sequence[ItemState], ctx: RunContext, window: Window, quiet_ticks: int
) -> None:
    """Sleep until the next fill-detection poll (or, following a healthy trading stream, until
    an item awaiting news would turn silent), a scheduled decision or the window's end; a
    stream update wakes it earlier."""
    feed = ctx.feed
    if feed is None or not feed.trading_ok():
        interval = _poll_interval(quiet_ticks, states, ctx)
    else:
        check = feed.next_check_s(states, lambda s: awaiting_news(s, ctx))
        interval = ctx.config.max_poll_interval_s if check is None else check
        if any(s.decide_at <= ctx.clock.monotonic() for s in states):
            # a decision due that found nothing to do (an unusable quote) is asked again on
            # the polling cadence, as without streams; its quotes cost no request now
            interval = min(interval, ctx.config.poll_interval_s)
    await nap(ctx.clock, _sleep_s(states, interval, ctx, window), ctx.news())


async def _detect_fills(states: Sequence[ItemState], ctx: RunContext) -> None:
    """One orders listing, or what the streams brought (listing only to confirm or when the
    trading stream is down or silent)."""
    if ctx.feed is None:
        await ctx.tracker.poll_orders(states)
    else:
        await ctx.feed.follow(ctx.tracker, states, lambda s: awaiting_news(s, ctx))


def _redecide_changed(
    states: Sequence[ItemState], stepped: Mapping[int, frozenset[str]], ctx: RunContext
) -> None:
    """An item whose live orders changed since its step (filled, cancelled, replaced, expired)
    decides on this tick: the schedule its policy gave assumed the order it saw would stand.
    A partial fill alone does not: no policy wants a different order for it."""
    now = ctx.clock.monotonic()
    for state in states:
        if state.live_ids != stepped[state.index]:
            state.decide_at = min(state.decide_at, now)


async def _refresh_quotes(states: Sequence[ItemState], ctx: RunContext, window: Window) -> None:
    """Fresh quotes for the items about to decide (none for policies that ignore quotes, none
    once the window is over: nothing is decided then)."""
    if not ctx.policy.uses_live_quotes or window.over(ctx.clock):
        return
    due = [s for s in states if decision_due(s, ctx)]
    if ctx.feed is not None and due:
        stale = ctx.feed.quotes_to_poll(s.symbol for s in due)
        due = [s for s in due if s.symbol in stale]
    await ctx.tracker.poll_quotes(due)


def _poll_interval(quiet_ticks: int, states: Sequence[ItemState], ctx: RunContext) -> float:
    """Fill-detection backoff: doubles per listing, from POLL_INTERVAL_S up to
    MAX_POLL_INTERVAL_S, and starts over after a listing that leaves news outstanding (a cancel
    or submit not settled yet, a marketable order not filled yet). A cancel just requested gets
    one listing after POLL_INTERVAL_S (the item is out of the market until a listing shows it
    final) without resetting the backoff; other writes (a new passive limit, a replace) do not
    shorten it: that is what keeps a resting book cheap. Decisions do not wait for it: the
    policies schedule them."""
    base = ctx.config.poll_interval_s
    if any(awaiting_cancel(s) for s in states):
        return base
    return min(base * float(2**quiet_ticks), max(ctx.config.max_poll_interval_s, base))


def wind_down_until(ctx: RunContext) -> float:
    """Monotonic time by which cancels and final reads must be over."""
    deadline = ctx.deadline
    final = deadline.stop_at + (deadline.hard_at - deadline.stop_at) * _WIND_DOWN_SHARE
    return min(final, ctx.clock.monotonic() + _MID_RUN_WIND_DOWN_S)


async def wind_down(states: Sequence[ItemState], ctx: RunContext) -> bool:
    """Cancel every live order of ``states`` and poll until all are terminal (bounded).

    Returns True when none is left live (or pending an unknown submit). The cancels are always
    sent at least once while the hard deadline allows, even when a slow call returned after the
    wind-down budget: a cancel is one request, and an order left untouched keeps working.
    """
    until = wind_down_until(ctx)
    cancelled_once = False
    while True:
        live = [s for s in states if in_flight(s)]
        if not live:
            return True
        now = ctx.clock.monotonic()
        if (now >= until and cancelled_once) or now >= ctx.deadline.hard_at:
            logger.error("wind_down_incomplete", extra={"symbols": [s.symbol for s in live]})
            return False
        await asyncio.gather(*(cancel_live(s, ctx) for s in live))
        cancelled_once = True
        await nap(
            ctx.clock,
            min(ctx.config.poll_interval_s, max(0.0, until - ctx.clock.monotonic())),
            ctx.news(),
        )
        await _detect_fills(live, ctx)
        ctx.sample_requests()
        for state in live:
            settle(state, ctx)
