"""``execute_plan``: a validated plan, a deadline and a broker port -> an ExecutionResult.

Order of work (SPEC §4.1-§4.4, §6): the plan's own orders from earlier attempts (reconciliation,
first: every early exit reports what they left, see ``early``); the caller's refusal (stale plan,
too little time); account, market clock (the working window ends before the session close) and
kill switch; stale orders cancelled; assets, positions and quotes; sizing; safety caps; dry run;
SELL phase; kill switch (also checked on every working tick); cash budget re-read; BUY phase;
result from broker-reported fills.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from rebalance_executor.domain.broker import BrokerError, BrokerPort, BrokerUnavailableError
from rebalance_executor.domain.clock import Clock, Deadline
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import Action, RebalancePlan
from rebalance_executor.domain.progress import NullProgress, ProgressSink
from rebalance_executor.domain.result import ExecutionResult, ExecutionStatus, Reason
from rebalance_executor.domain.streams import StreamPort
from rebalance_executor.executor.build import block, new_state, resize_buys
from rebalance_executor.executor.context import KillSwitch, RunContext, kill_engaged
from rebalance_executor.executor.early import EarlyStop, stop_early
from rebalance_executor.executor.ids import plan_key
from rebalance_executor.executor.phases import run_phase
from rebalance_executor.executor.policies import policy_for
from rebalance_executor.executor.preflight import (
    Gate,
    Market,
    read_gate,
    read_market,
    session_deadline,
)
from rebalance_executor.executor.reconcile import (
    LIST_MARGIN,
    PlanOrders,
    cancel_stale,
    load_plan_orders,
)
from rebalance_executor.executor.recorder import Recorder
from rebalance_executor.executor.reference import reference_wait_s
from rebalance_executor.executor.safety import cap_violation
from rebalance_executor.executor.sizing import Sized, size_item
from rebalance_executor.executor.state import ItemState
from rebalance_executor.executor.streaming import StreamFeed
from rebalance_executor.executor.tracker import Tracker

logger = logging.getLogger(__name__)

# At most this share of the trading window goes to waiting for stale cancels before sizing.
_STALE_CANCEL_SHARE = 0.1
# When buys follow, the sell phase may use at most this share of the remaining window.
_SELL_WINDOW_SHARE = 0.5


async def execute_plan(
    plan: RebalancePlan,
    *,
    broker: BrokerPort,
    clock: Clock,
    deadline: Deadline,
    config: ExecutionConfig,
    kill_switch: KillSwitch | None = None,
    progress: ProgressSink | None = None,
    refusal: EarlyStop | None = None,
    streams: StreamPort | None = None,
) -> ExecutionResult:
    """Execute ``plan`` once, exactly once against the broker, before ``deadline``.

    ``refusal``: the caller already decided this attempt must not trade (stale plan, too little
    time); it still reconciles and reports what earlier attempts left (SPEC §4.2).
    ``progress`` is shown each item's completion once trading starts (never for an early exit).
    ``streams``: followed while trading (opened here, closed before returning); None: polling.

    Per-item problems become reasons in the result, never exceptions. Raises
    UnsupportedPolicyError for a policy not implemented, and BrokerUnavailableError when the
    broker fails during preflight (before any order was sent; the Lambda retry reconciles).
    """
    policy = policy_for(config.policy)
    rec = Recorder(
        plan, broker=broker, clock=clock, deadline=deadline, config=config, policy=policy.name
    )
    symbols = {i: it.symbol for i, it in enumerate(plan.items) if it.action is not Action.HOLD}
    if not symbols:
        return rec.early(ExecutionStatus.SKIPPED, "nothing to trade: every item is HOLD")
    key = plan_key(plan.plan_id)
    with _broker_failure_is_unavailable("reconciliation listing"):
        found = await load_plan_orders(broker, plan, key, symbols)
    admitted = refusal or await _admit(broker, config, kill_switch)
    if isinstance(admitted, EarlyStop):
        return await stop_early(
            plan,
            admitted,
            found=found,
            rec=rec,
            symbols=symbols,
            key=key,
            poll_s=config.poll_interval_s,
        )
    gate = admitted
    rec.deadline = deadline = session_deadline(deadline, gate, clock)
    ctx = RunContext(
        broker,
        clock,
        deadline,
        config,
        policy,
        key,
        Tracker(broker, key, plan.timestamp - LIST_MARGIN),
        progress=progress or NullProgress(),
        kill_switch=kill_switch,
    )
    if found.live() and not config.dry_run:
        found = await _cancel_stale(plan, ctx=ctx, symbols=symbols, found=found)
    return await _size_and_trade(
        plan, ctx=ctx, gate=gate, found=found, symbols=symbols, rec=rec, streams=streams
    )


async def _admit(
    broker: BrokerPort, config: ExecutionConfig, kill_switch: KillSwitch | None
) -> Gate | EarlyStop:
    """The account and market gate when trading may go on, or why it must not (blocked
    account, market closed or about to close, kill switch). Raises BrokerUnavailableError."""
    gate = await read_gate(broker)
    blocked = gate.blocked_reason()
    if blocked is not None:
        return EarlyStop(ExecutionStatus.REJECTED, blocked, Reason.ACCOUNT_BLOCKED)
    closed = gate.closed_reason()
    if closed is not None:
        return EarlyStop(ExecutionStatus.SKIPPED, closed, Reason.MARKET_CLOSED)
    if await kill_engaged(config, kill_switch):
        return EarlyStop(ExecutionStatus.REJECTED, "kill switch is engaged", Reason.KILL_SWITCH)
    return gate


async def _size_and_trade(
    plan: RebalancePlan,
    *,
    ctx: RunContext,
    gate: Gate,
    found: PlanOrders,
    symbols: Mapping[int, str],
    rec: Recorder,
    streams: StreamPort | None,
) -> ExecutionResult:
    """Market read, sizing, caps and dry run; then the two phases and the final result."""
    market = await read_market(
        ctx.broker,
        set(symbols.values()),
        clock=ctx.clock,
        config=ctx.config,
        reference_wait_s=reference_wait_s(ctx.deadline.remaining_trading_s()),
    )
    rec.mark("preflight")
    sized = _size_all(plan, symbols=symbols, market=market, found=found, rec=rec, config=ctx.config)
    violation = cap_violation(sized, symbols, found, gate.account, ctx.config)
    if violation is not None:
        stop = EarlyStop(ExecutionStatus.REJECTED, violation, Reason.ORDER_CAP)
        if not found.by_item:
            return rec.early(stop.status, stop.reason, sized, stop.item_reason)
        return await stop_early(
            plan,
            stop,
            found=found,
            rec=rec,
            symbols=symbols,
            key=ctx.plan_key,
            poll_s=ctx.config.poll_interval_s,
        )
    if ctx.config.dry_run:
        return rec.dry_run(sized)
    states = {
        i: new_state(i, plan.items[i], s, market.assets[plan.items[i].symbol], found)
        for i, s in sized.items()
        if s.reason is None
    }
    ctx.progress.start(len(plan.items), label=plan.plan_id)
    trade = _trade if streams is None else functools.partial(_trade_following, streams)
    await trade(plan, ctx=ctx, states=states, sized=sized, market=market, found=found, rec=rec)
    report = None if ctx.feed is None else ctx.feed.report()
    result = rec.final(sized, states, ctx.request_samples, report)
    for item in result.items:  # HOLD, not traded, or unfinished when the window closed
        state = states.get(item.index)
        if state is None or not state.reported:
            ctx.progress.item_done(item.symbol, item.outcome)
    return result


@contextmanager
def _broker_failure_is_unavailable(step: str) -> Iterator[None]:
    """Re-raise a BrokerError from a preflight ``step`` as BrokerUnavailableError: no order of
    this attempt was sent yet, so the whole invocation is retried (and reconciles)."""
    try:
        yield
    except BrokerUnavailableError:
        raise
    except BrokerError as exc:
        raise BrokerUnavailableError(f"{step} failed: {exc}") from exc


async def _cancel_stale(
    plan: RebalancePlan, *, ctx: RunContext, symbols: Mapping[int, str], found: PlanOrders
) -> PlanOrders:
    """Cancel earlier attempts' live orders within a share of the window (see cancel_stale).
    Raises BrokerUnavailableError when the broker fails."""
    budget_s = (ctx.deadline.stop_at - ctx.clock.monotonic()) * _STALE_CANCEL_SHARE
    with _broker_failure_is_unavailable("stale order reconciliation"):
        return await cancel_stale(
            ctx.broker,
            clock=ctx.clock,
            plan=plan,
            key=ctx.plan_key,
            symbols=symbols,
            found=found,
            budget_s=budget_s,
            poll_s=ctx.config.poll_interval_s,
        )


def _size_all(
    plan: RebalancePlan,
    *,
    symbols: Mapping[int, str],
    market: Market,
    found: PlanOrders,
    rec: Recorder,
    config: ExecutionConfig,
) -> dict[int, Sized]:
    now = rec.clock.now()
    return {
        i: size_item(
            plan.items[i],
            asset=market.assets.get(symbol),
            position=market.positions.get(symbol),
            quote=market.quotes.get(symbol),
            prior=found.prior(i),
            now=now,
            config=config,
            reference=market.references.get(symbol),
        )
        for i, symbol in symbols.items()
    }


async def _trade(
    plan: RebalancePlan,
    *,
    ctx: RunContext,
    states: dict[int, ItemState],
    sized: dict[int, Sized],
    market: Market,
    found: PlanOrders,
    rec: Recorder,
) -> None:
    """SELL phase, then (if sells are final and no kill) BUY phase sized to buying power."""
    sells = [s for s in states.values() if s.item.action is Action.SELL]
    buys = [s for s in states.values() if s.item.action is Action.BUY]
    # one recent-bars request for the whole plan when the policy reads them (none per phase)
    await ctx.tracker.read_activity([*sells, *buys], ctx.policy, ctx.config)
    sells_clean = await run_phase(sells, ctx, _sell_phase_stop(ctx, buys_follow=bool(buys)))
    rec.mark("sells")
    if await ctx.kill_engaged():
        for state in buys:
            block(state, Reason.KILL_SWITCH, "kill switch engaged after the sell phase")
        return
    if not sells_clean:
        for state in buys:
            block(state, Reason.SELLS_UNFINISHED, "sell orders still live; buys not sent")
        return
    if buys and await resize_buys(
        plan.plan_id, ctx=ctx, buys=buys, sized=sized, market=market, found=found
    ):
        await run_phase([s for s in buys if not s.done], ctx, ctx.deadline.stop_at)
    rec.mark("buys")


async def _trade_following(
    streams: StreamPort,
    plan: RebalancePlan,
    *,
    ctx: RunContext,
    states: dict[int, ItemState],
    sized: dict[int, Sized],
    market: Market,
    found: PlanOrders,
    rec: Recorder,
) -> None:
    """``_trade`` following the broker's streams, then one reconciliation listing: the result
    is built from the broker's REST state, whatever the streams said (SPEC §4.2)."""
    ctx.tracker.register(states.values())
    await streams.open({s.symbol for s in states.values()})
    ctx.feed = StreamFeed(
        streams,
        ctx.clock,
        lag_s=ctx.config.stream_lag_s,
        silence_s=ctx.config.stream_silence_s,
    )
    try:
        await _trade(plan, ctx=ctx, states=states, sized=sized, market=market, found=found, rec=rec)
    finally:
        await streams.close()
    await ctx.tracker.reconcile()


def _sell_phase_stop(ctx: RunContext, *, buys_follow: bool) -> float:
    """Monotonic stop of the sell phase: the whole window when no buy follows, otherwise at
    most half of what is left (buys need their own time) and never past ``sell_wait_max_s``."""
    now = ctx.clock.monotonic()
    remaining = max(0.0, ctx.deadline.stop_at - now)
    if not buys_follow:
        return now + remaining
    return now + min(ctx.config.sell_wait_max_s, remaining * _SELL_WINDOW_SHARE)


__all__ = ["EarlyStop", "KillSwitch", "execute_plan"]
