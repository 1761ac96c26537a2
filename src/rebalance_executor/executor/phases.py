"""The working loop of a phase (SPEC §4.3, §4.7): all its items concurrently on one event loop,
one batched poll per tick, and a wind-down that leaves nothing of the plan live."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from rebalance_executor.domain.result import Reason
from rebalance_executor.executor.context import RunContext, Window
from rebalance_executor.executor.state import ItemState
from rebalance_executor.executor.working import cancel_live, settle, step

logger = logging.getLogger(__name__)

# Share of the deadline's wind-down reserve (stop_at..hard_at) cancels and final reads may use;
# the rest is for writing the result.
_WIND_DOWN_SHARE = 0.5
# Adaptive polling never leaves fewer ticks than this in a phase's window.
_MIN_TICKS_PER_WINDOW = 20
# Longest a mid-run wind-down (e.g. the sell phase hitting sell_wait_max_s) may take.
_MID_RUN_WIND_DOWN_S = 30.0


async def run_phase(states: Sequence[ItemState], ctx: RunContext, stop_at: float) -> bool:
    """Work ``states`` until all are done or ``stop_at``; then cancel what is live and wait for
    the cancels to be final. Returns True when nothing of the phase is left live.

    Never raises BrokerError: broker trouble becomes item reasons.
    """
    window = Window(ctx.clock.monotonic(), min(stop_at, ctx.deadline.stop_at))
    ctx.tracker.register(states)
    interval = ctx.config.poll_interval_s
    while True:
        active = [s for s in states if not settle(s, ctx)]
        if not active or window.over(ctx.clock):
            break
        before = _activity(active)
        await asyncio.gather(*(step(s, ctx, window) for s in active))
        active = [s for s in active if not settle(s, ctx)]
        if not active:
            break
        await ctx.clock.sleep(min(interval, window.remaining(ctx.clock)))
        await ctx.tracker.poll(active, want_quotes=ctx.policy.uses_live_quotes)
        ctx.sample_requests()
        for state in active:
            state.sample_quote(ctx.tracker.quotes.get(state.symbol))
        interval = _next_interval(
            interval, quiet=_activity(active) == before, ctx=ctx, window=window
        )
    unfinished = [s for s in states if not settle(s, ctx)]
    for state in unfinished:
        state.note_reason(Reason.DEADLINE, "working window ended with quantity unfilled")
    return await wind_down(unfinished, ctx)


def _activity(states: Sequence[ItemState]) -> tuple[tuple[object, ...], ...]:
    """What a tick can change: fills, orders (incl. replaces), their statuses, pending submits."""
    return tuple(
        (
            s.filled_qty,
            tuple(sorted((o.id, o.status) for o in s.orders.values())),
            s.pending_request is not None,
            s.done,
        )
        for s in states
    )


def _next_interval(interval: float, *, quiet: bool, ctx: RunContext, window: Window) -> float:
    """Back off while nothing happens (resting limits); snap back to the base on any activity.

    Never longer than 1/_MIN_TICKS_PER_WINDOW of the phase's window: policies decide (re-peg,
    cross) only on ticks, so a short window must still see enough of them.
    """
    base = ctx.config.poll_interval_s
    if not quiet:
        return base
    cap = min(ctx.config.max_poll_interval_s, (window.stop - window.start) / _MIN_TICKS_PER_WINDOW)
    return min(max(interval * 2, base), max(cap, base))


def wind_down_until(ctx: RunContext) -> float:
    """Monotonic time by which cancels and final reads must be over."""
    deadline = ctx.deadline
    final = deadline.stop_at + (deadline.hard_at - deadline.stop_at) * _WIND_DOWN_SHARE
    return min(final, ctx.clock.monotonic() + _MID_RUN_WIND_DOWN_S)


async def wind_down(states: Sequence[ItemState], ctx: RunContext) -> bool:
    """Cancel every live order of ``states`` and poll until all are terminal (bounded).

    Returns True when none is left live (or pending an unknown submit).
    """
    until = wind_down_until(ctx)
    while True:
        live = [
            s for s in states if s.live_orders or s.unconfirmed or s.pending_request is not None
        ]
        if not live:
            return True
        if ctx.clock.monotonic() >= until:
            logger.error("wind_down_incomplete", extra={"symbols": [s.symbol for s in live]})
            return False
        await asyncio.gather(*(cancel_live(s, ctx) for s in live))
        await ctx.clock.sleep(
            min(ctx.config.poll_interval_s, max(0.0, until - ctx.clock.monotonic()))
        )
        await ctx.tracker.poll(live, want_quotes=False)
        ctx.sample_requests()
        for state in live:
            settle(state, ctx)
