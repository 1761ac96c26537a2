"""Glue between planning and the normal results path: a plan, or a finished non-trading result.

The service calls :func:`resolve_plan` inside the idempotent section (the claim is keyed on the
derived plan id, known before the broker is read). A skip becomes a ``SKIPPED`` result and a
planning error a ``REJECTED`` one, both recorded like any other execution; only broker errors
propagate, so Lambda retries with nothing sent.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from rebalance_executor.domain.allocation import TargetAllocation
from rebalance_executor.domain.broker import BrokerPort
from rebalance_executor.domain.clock import Clock
from rebalance_executor.domain.plan import Action, RebalancePlan
from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ItemOutcome,
    ItemResult,
)
from rebalance_executor.executor.ids import plan_key
from rebalance_executor.planning.model import PlanningError, PlanningSkip
from rebalance_executor.planning.planner import build_plan

logger = logging.getLogger(__name__)


def own_order_prefix(plan_id: str) -> str:
    """The client-order-id prefix the executor gives every order of ``plan_id`` (SPEC §4.2)."""
    return f"{plan_key(plan_id)}-"


async def resolve_plan(
    allocation: TargetAllocation,
    *,
    broker: BrokerPort,
    clock: Clock,
    correlation_id: str | None = None,
    dry_run: bool = False,
    cash_reserve: Decimal = Decimal(0),
) -> RebalancePlan | ExecutionResult:
    """The plan to execute, or the SKIPPED / REJECTED result to record instead.

    ``cash_reserve`` is the executor's ``CASH_RESERVE``: buys are planned to leave it in cash.

    Raises BrokerError when the broker cannot be read (retryable; nothing was sent).
    """
    plan_id = allocation.derived_plan_id()
    started = clock.now()
    try:
        planned = await build_plan(
            allocation,
            broker=broker,
            clock=clock,
            correlation_id=correlation_id,
            own_order_prefix=own_order_prefix(plan_id),
            cash_reserve=cash_reserve,
        )
    except PlanningError as exc:
        logger.warning("allocation rejected", extra={"plan_id": plan_id, "reason": exc.reason})
        return ExecutionResult(
            plan_id=plan_id,
            status=ExecutionStatus.REJECTED,
            reason=exc.reason,
            started_at=started,
            finished_at=clock.now(),
            dry_run=dry_run,
        )
    if isinstance(planned, PlanningSkip):
        return skipped_result(planned, started=started, finished=clock.now(), dry_run=dry_run)
    return planned


def skipped_result(
    skip: PlanningSkip, *, started: datetime, finished: datetime, dry_run: bool = False
) -> ExecutionResult:
    """A ``SKIPPED`` result; one HOLD item per planned symbol when the account was read."""
    items: tuple[ItemResult, ...] = ()
    if skip.plan is not None:
        items = tuple(
            ItemResult(
                index=index,
                symbol=item.symbol,
                action=Action.HOLD,
                outcome=ItemOutcome.HOLD,
                planned_notional=item.trade_amount,
            )
            for index, item in enumerate(skip.plan.items)
        )
    logger.info("allocation skipped", extra={"plan_id": skip.plan_id, "code": skip.code.value})
    return ExecutionResult(
        plan_id=skip.plan_id,
        status=ExecutionStatus.SKIPPED,
        reason=f"{skip.code.value}: {skip.reason}",
        plan=skip.plan,
        items=items,
        started_at=started,
        finished_at=finished,
        dry_run=dry_run,
    )
