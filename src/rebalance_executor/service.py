"""The application flow (SPEC §1, §4.8, §5): parse → claim → deadline → execute → record.

Failure policy (§4.8):

* invalid input → ``REJECTED`` summary returned (recorded under ``rejected/`` in S3, no claim,
  no broker call); the same ``plan_id`` with a different plan → ``REJECTED`` the same way;
* a concurrent duplicate → ``SKIPPED`` "in progress" summary returned, nothing traded;
* a duplicate of a finished plan → the stored summary returned, nothing traded;
* too little time, stale plan → ``REJECTED`` (claimed and stored: a retry cannot help) — after
  reconciling: when earlier attempts of the plan left orders at the broker, the executor cancels
  the live ones and reports their fills instead (SPEC §4.2; a stale *schedule tick* is refused
  before planning, as its plan does not exist yet);
* transient failure before any order (broker preflight, account busy, lock store, DynamoDB)
  → raised, Powertools deletes the claim so the Lambda retry runs;
* S3 still failing after bounded retries → ``ResultWriteError`` raised, the retry reconciles;
* the outcome event failing → logged and counted, not raised (the result is durable in S3);
* a conflicting duplicate publishes ``RebalanceDuplicateRejected``, never an outcome event;
* every AWS call starts only while it can finish before the Lambda timeout
  (``adapters.aws_config``); one that cannot raises like an unavailable dependency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from rebalance_executor.adapters.aws_config import invocation_window
from rebalance_executor.adapters.event_bus import DETAIL_DUPLICATE_REJECTED, PublishError
from rebalance_executor.adapters.idempotency import ClaimPayload, claim_payload, run_once
from rebalance_executor.adapters.s3_results import RecordLocation
from rebalance_executor.composition import Dependencies
from rebalance_executor.domain.allocation import TargetAllocation
from rebalance_executor.domain.clock import BudgetTooSmallError, Deadline
from rebalance_executor.domain.locks import account_key_for, hold_account
from rebalance_executor.domain.plan import RebalancePlan
from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ExecutionSummary,
    Reason,
)
from rebalance_executor.events import InvalidEventError, ParsedEvent, ScheduleEvent, parse_any_event
from rebalance_executor.executor import EarlyStop, execute_plan
from rebalance_executor.observability import logger
from rebalance_executor.outcome_metrics import (
    count_event,
    emit_execution_metrics,
    emit_overfill,
    emit_stream_fallbacks,
)
from rebalance_executor.planning import resolve_plan

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

UNKNOWN_PLAN_ID = "unknown"
#: What the claimed core works from: a plan, or a scheduled allocation planned inside the claim.
PlanSource = RebalancePlan | TargetAllocation


def handle_event(
    raw: Mapping[str, Any], context: LambdaContext, deps: Dependencies
) -> dict[str, Any]:
    """Run one invocation and return the SPEC §3.3 summary as a JSON-ready dict.

    Raises on transient infrastructure failures (see the module docstring) so Lambda retries.
    """
    with invocation_window(context):
        return _handle_event(raw, context, deps)


def _handle_event(
    raw: Mapping[str, Any], context: LambdaContext, deps: Dependencies
) -> dict[str, Any]:
    received_at = deps.clock.now()
    try:
        event = parse_any_event(raw, max_items=deps.settings.max_plan_items)
    except InvalidEventError as exc:
        logger.append_keys(plan_id=_raw_plan_id(raw))
        logger.set_correlation_id(_event_id(raw, context))
        return _reject_unclaimed(
            raw, context=context, deps=deps, received_at=received_at, reason=exc.reason
        )
    plan_id, _, source = _identity(event)
    logger.set_correlation_id(_correlation_id(event))
    logger.append_keys(plan_id=plan_id, event_id=event.event_id)
    items = len(source.items) if isinstance(source, RebalancePlan) else len(source.targets)
    logger.info("plan received", extra={"items": items, "shape": event.shape.value})
    ran = False

    def core(payload: ClaimPayload) -> dict[str, Any]:
        nonlocal ran
        ran = True
        return _execute_claimed(event, raw, context, deps).model_dump(mode="json")

    try:
        summary = run_once(
            core,
            _claim_payload(source),
            persistence=deps.persistence,
            config=deps.idempotency,
            context=context,
        )
    except IdempotencyAlreadyInProgressError:
        logger.warning("duplicate while plan in progress; not trading")
        count_event("DuplicateInProgress")
        return _summary(plan_id, ExecutionStatus.SKIPPED, _IN_PROGRESS).model_dump(mode="json")
    except IdempotencyValidationError:
        reason = (
            f"plan_id: {plan_id} was already used for a different plan; "
            "a plan_id may be executed only once with the same content"
        )
        return _reject_unclaimed(
            raw,
            context=context,
            deps=deps,
            received_at=received_at,
            reason=reason,
            plan_id=plan_id,
            detail_type=DETAIL_DUPLICATE_REJECTED,
        )
    if not ran:
        logger.info("duplicate of a finished plan; returning the stored summary")
        count_event("DuplicateCompleted")
    return summary


_IN_PROGRESS = "plan is already being executed by another invocation; this duplicate did nothing"


def _identity(event: ParsedEvent) -> tuple[str, datetime, PlanSource]:
    """``(plan_id, timestamp, source)``; a schedule's are known before the broker is read."""
    if isinstance(event, ScheduleEvent):
        return event.plan_id, event.allocation.scheduled_time, event.allocation
    return event.plan.plan_id, event.plan.timestamp, event.plan


def _correlation_id(event: ParsedEvent) -> str | None:
    if isinstance(event, ScheduleEvent):
        return event.event_id or event.plan_id
    return event.plan.correlation_id


def _claim_payload(source: PlanSource) -> ClaimPayload:
    """A schedule claims over its allocation: the built plan depends on the live account."""
    if isinstance(source, RebalancePlan):
        return claim_payload(source)
    return {"plan_id": source.derived_plan_id(), "plan": source.model_dump(mode="json")}


def _execute_claimed(
    event: ParsedEvent, raw: Mapping[str, Any], context: LambdaContext, deps: Dependencies
) -> ExecutionSummary:
    """The idempotent core: execute (or reject) the claimed plan and record the outcome."""
    plan_id, timestamp, source = _identity(event)
    started = time.monotonic()
    location = deps.results.execution_location(plan_id, timestamp)
    attempt = deps.results.next_attempt(location)
    logger.append_keys(attempt=attempt)
    result = _run_within_budget(source, context, deps)
    summary = ExecutionSummary.of(result, location.result_uri, attempt)
    _record(location, result=result, summary=summary, raw=raw, context=context, deps=deps)
    emit_execution_metrics(summary, time.monotonic() - started)
    emit_overfill(result)
    emit_stream_fallbacks(result)
    return summary


def _run_within_budget(
    plan: PlanSource, context: LambdaContext, deps: Dependencies
) -> ExecutionResult:
    """Derive the deadline (SPEC §4.7) and run the executor.

    A stale plan or too little time is refused, but a plan still reconciles first (SPEC §4.2):
    the executor gets the refusal and only cancels and reports what earlier attempts left.
    """
    stale = _stale_reason(plan, deps)
    if stale is not None and isinstance(plan, TargetAllocation):
        return _rejected(_plan_id(plan), stale, deps)
    refusal = (
        None if stale is None else EarlyStop(ExecutionStatus.REJECTED, stale, Reason.STALE_PLAN)
    )
    remaining_s = context.get_remaining_time_in_millis() / 1000
    try:
        deadline = Deadline.from_remaining(
            deps.clock, remaining_s, deps.settings.deadline_reserve_s
        )
    except BudgetTooSmallError as exc:
        logger.warning("time budget too small; rejecting", extra={"remaining_s": remaining_s})
        reason = f"time budget: {exc}"
        if isinstance(plan, TargetAllocation) or remaining_s <= _MIN_RECONCILE_S:
            return _rejected(_plan_id(plan), reason, deps, _plan_or_none(plan))
        deadline = _reconcile_only(deps, remaining_s)
        refusal = refusal or EarlyStop(ExecutionStatus.REJECTED, reason, Reason.TIME_BUDGET)
    logger.info(
        "executing plan",
        extra={"remaining_s": remaining_s, "trading_window_s": deadline.remaining_trading_s()},
    )
    return asyncio.run(_execute(plan, deadline, deps, refusal))


# Below this many seconds left, not even a reconciliation listing fits: refuse outright.
_MIN_RECONCILE_S = 2.0
_SAFETY_MARGIN_S = 1.0


def _reconcile_only(deps: Dependencies, remaining_s: float) -> Deadline:
    """A deadline with no trading window: time only to reconcile, cancel and record."""
    start = deps.clock.monotonic()
    hard = start + remaining_s - _SAFETY_MARGIN_S
    return Deadline(clock=deps.clock, started_at=start, stop_at=start, hard_at=hard)


async def _execute(
    plan: PlanSource, deadline: Deadline, deps: Dependencies, refusal: EarlyStop | None
) -> ExecutionResult:
    """Run the executor holding the account lock (SPEC §5).

    Raises AccountBusyError / LockStoreUnavailableError / BrokerUnavailableError before any
    order was sent; the claim is then released and Lambda retries.
    """
    run = _plan_and_execute(plan, deadline, deps, refusal)
    account = account_key_for(deps.credentials().api_key)
    # The lease outlives the invocation's hard deadline so it never lapses mid-trade.
    ttl_s = deadline.remaining_total_s() + 5.0
    try:
        async with hold_account(deps.account_lock, account, _plan_id(plan), ttl_s):
            return await run
    finally:
        run.close()  # never awaited when the lock was busy: avoid an un-awaited coroutine


async def _plan_and_execute(
    source: PlanSource, deadline: Deadline, deps: Dependencies, refusal: EarlyStop | None
) -> ExecutionResult:
    """Build a schedule's plan from the live account (SPEC §4.9), then run the executor.

    Planning skips (market closed, within tolerance) and planning errors come back as
    SKIPPED / REJECTED results without any order; broker errors raise (retryable).
    """
    broker = deps.broker_factory(deadline)
    if isinstance(source, TargetAllocation):
        resolved = await resolve_plan(
            source,
            broker=broker,
            clock=deps.clock,
            correlation_id=logger.get_correlation_id(),
            dry_run=deps.execution_config.dry_run,
            cash_reserve=deps.execution_config.cash_reserve,
        )
        if isinstance(resolved, ExecutionResult):
            return resolved
        source = resolved
    return await execute_plan(
        source,
        broker=broker,
        clock=deps.clock,
        deadline=deadline,
        config=deps.execution_config,
        kill_switch=deps.kill_switch,
        progress=deps.progress,
        refusal=refusal,
        streams=None if deps.streams_factory is None else deps.streams_factory(),
    )


def _plan_id(source: PlanSource) -> str:
    return source.plan_id if isinstance(source, RebalancePlan) else source.derived_plan_id()


def _plan_or_none(source: PlanSource) -> RebalancePlan | None:
    return source if isinstance(source, RebalancePlan) else None


def _stale_reason(plan: PlanSource, deps: Dependencies) -> str | None:
    """Why the plan (or schedule tick) is older than MAX_PLAN_AGE_S (SPEC §6); None if fresh."""
    timestamp = plan.timestamp if isinstance(plan, RebalancePlan) else plan.scheduled_time
    age_s = (deps.clock.now() - timestamp).total_seconds()
    limit = deps.settings.max_plan_age_s
    if age_s <= limit:
        return None
    logger.warning("stale plan refused", extra={"age_s": age_s, "max_plan_age_s": limit})
    return f"timestamp: plan is {age_s:.0f}s old, older than MAX_PLAN_AGE_S={limit:.0f}s"


def _reject_unclaimed(
    raw: Mapping[str, Any],
    *,
    context: LambdaContext,
    deps: Dependencies,
    received_at: datetime,
    reason: str,
    plan_id: str | None = None,
    detail_type: str | None = None,
) -> dict[str, Any]:
    """Record and return a REJECTED summary for input refused before the claim."""
    logger.warning("event rejected", extra={"reason": reason})
    location = deps.results.rejection_location(_event_id(raw, context), received_at)
    result = _rejected(plan_id or _raw_plan_id(raw), reason, deps)
    summary = ExecutionSummary.of(result, location.result_uri, attempt=1)
    _record(
        location,
        result=result,
        summary=summary,
        raw=raw,
        context=context,
        deps=deps,
        detail_type=detail_type,
    )
    emit_execution_metrics(summary, 0.0)
    return summary.model_dump(mode="json")


def _record(
    location: RecordLocation,
    *,
    result: ExecutionResult,
    summary: ExecutionSummary,
    raw: Mapping[str, Any],
    context: LambdaContext,
    deps: Dependencies,
    detail_type: str | None = None,
) -> None:
    """Write to S3 (raises ResultWriteError), then publish the event (never raises)."""
    deps.results.write(location, result, summary, raw_event=raw, request_id=context.aws_request_id)
    if deps.publisher is None:
        return
    try:
        deps.publisher.publish(
            summary, correlation_id=logger.get_correlation_id(), detail_type=detail_type
        )
    except PublishError as exc:
        logger.error("outcome event not published", extra={"error": str(exc)})
        count_event("PublishFailed")


def _rejected(
    plan_id: str, reason: str, deps: Dependencies, plan: RebalancePlan | None = None
) -> ExecutionResult:
    now = deps.clock.now()
    return ExecutionResult(
        plan_id=plan_id,
        status=ExecutionStatus.REJECTED,
        reason=reason,
        plan=plan,
        started_at=now,
        finished_at=now,
        dry_run=deps.execution_config.dry_run,
    )


def _summary(plan_id: str, status: ExecutionStatus, reason: str) -> ExecutionSummary:
    return ExecutionSummary(plan_id=plan_id, status=status, reason=reason)


def _event_id(raw: Mapping[str, Any], context: LambdaContext) -> str:
    event_id = raw.get("id") if isinstance(raw, Mapping) else None
    if isinstance(event_id, str) and event_id.replace("-", "").isalnum() and len(event_id) <= 128:
        return event_id
    return str(context.aws_request_id)


def _raw_plan_id(raw: Mapping[str, Any]) -> str:
    """Best-effort plan id of an invalid event, for the summary only (never a storage key)."""
    detail = raw.get("detail", raw) if isinstance(raw, Mapping) else None
    if isinstance(detail, Mapping) and isinstance(detail.get("rebalance_plan"), Mapping):
        detail = detail["rebalance_plan"]
    plan_id = detail.get("plan_id") if isinstance(detail, Mapping) else None
    if isinstance(plan_id, str) and 0 < len(plan_id) <= 128:
        return plan_id
    return UNKNOWN_PLAN_ID
