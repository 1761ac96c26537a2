"""Turns one execution's facts into its ExecutionResult (status, items, budget, TCA)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerPort
from rebalance_executor.domain.clock import Clock, Deadline
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import RebalancePlan
from rebalance_executor.domain.result import (
    BudgetRecord,
    ExecutionResult,
    ExecutionStatus,
    ItemResult,
    Reason,
    StreamReport,
)
from rebalance_executor.executor.results import (
    RequestStats,
    classify,
    tca,
    traded_result,
    untraded_result,
)
from rebalance_executor.executor.sizing import Sized
from rebalance_executor.executor.state import ItemState

logger = logging.getLogger(__name__)


def _s(seconds: float) -> Decimal:
    return Decimal(str(round(max(0.0, seconds), 3)))


class Recorder:
    """Collects timing and request figures while a plan runs and assembles the result."""

    def __init__(
        self,
        plan: RebalancePlan,
        *,
        broker: BrokerPort,
        clock: Clock,
        deadline: Deadline,
        config: ExecutionConfig,
        policy: str,
    ) -> None:
        self.plan, self.broker, self.clock = plan, broker, clock
        self.deadline, self.config, self.policy = deadline, config, policy
        self.started_at = clock.now()
        self.t0 = clock.monotonic()
        self.requests_at_start = broker.request_count()
        self._marks: dict[str, float] = {}
        self._last = self.t0

    def mark(self, phase: str) -> None:
        """Record the time spent since the previous mark under ``phase``."""
        now = self.clock.monotonic()
        self._marks[phase] = self._marks.get(phase, 0.0) + (now - self._last)
        self._last = now

    def _budget(self) -> BudgetRecord:
        d, now = self.deadline, self.clock.monotonic()
        return BudgetRecord(
            remaining_at_start_s=_s(d.hard_at - self.t0),
            reserve_s=_s(d.hard_at - d.stop_at),
            trading_window_s=_s(d.stop_at - self.t0),
            preflight_s=_s(self._marks.get("preflight", 0.0)),
            sells_s=_s(self._marks.get("sells", 0.0)),
            buys_s=_s(self._marks.get("buys", 0.0)),
            wind_down_s=_s(now - self._last),
            total_s=_s(now - self.t0),
        )

    def _result(
        self,
        status: ExecutionStatus,
        reason: str | None,
        items: Sequence[ItemResult],
        samples: Sequence[tuple[float, int]] = (),
        streams: StreamReport | None = None,
    ) -> ExecutionResult:
        now, count = self.clock.monotonic(), self.broker.request_count()
        # Bracket the per-tick samples with the start and the end so preflight counts too.
        bracketed = [(self.t0, self.requests_at_start), *samples, (now, count)]
        requests = RequestStats(count - self.requests_at_start, bracketed)
        wall = now - self.t0
        logger.info(
            "plan_executed",
            extra={"plan_id": self.plan.plan_id, "status": status.value, "reason": reason},
        )
        return ExecutionResult(
            plan_id=self.plan.plan_id,
            status=status,
            reason=reason,
            plan=self.plan,
            items=tuple(items),
            budget=self._budget(),
            streams=streams,
            tca=tca(self.policy, items, wall, requests),
            started_at=self.started_at,
            finished_at=self.clock.now(),
            dry_run=self.config.dry_run,
        )

    def early(
        self,
        status: ExecutionStatus,
        reason: str,
        sized: Mapping[int, Sized] | None = None,
        item_reason: Reason | None = None,
    ) -> ExecutionResult:
        """A result before any trading (REJECTED / SKIPPED): every item not traded, carrying
        ``item_reason`` unless sizing already gave it one."""
        sized = sized or {}
        items = [
            untraded_result(i, it, sized.get(i), reason=item_reason)
            for i, it in enumerate(self.plan.items)
        ]
        return self._result(status, reason, items)

    def dry_run(self, sized: Mapping[int, Sized]) -> ExecutionResult:
        """DRY_RUN: the intended orders (planned quantities at reference prices), none sent."""
        items = [
            untraded_result(i, it, sized.get(i), dry_run=True)
            for i, it in enumerate(self.plan.items)
        ]
        return self._result(ExecutionStatus.DRY_RUN, "dry run: no order was sent", items)

    def stopped(
        self, stop_reason: str, sized: Mapping[int, Sized], states: Mapping[int, ItemState]
    ) -> ExecutionResult:
        """An early exit that found the plan's orders of earlier attempts at the broker: the
        status comes from their fills (§3.3), the reason names why this attempt stopped."""
        items = self._items(sized, states)
        status, detail = classify(items)
        reason = stop_reason if detail is None else f"{stop_reason}; {detail}"
        return self._result(status, reason, items)

    def final(
        self,
        sized: Mapping[int, Sized],
        states: Mapping[int, ItemState],
        samples: Sequence[tuple[float, int]],
        streams: StreamReport | None = None,
    ) -> ExecutionResult:
        """The result after trading, from broker-reported fills."""
        items = self._items(sized, states)
        status, reason = classify(items)
        return self._result(status, reason, items, samples, streams)

    def _items(
        self, sized: Mapping[int, Sized], states: Mapping[int, ItemState]
    ) -> list[ItemResult]:
        items: list[ItemResult] = []
        for i, item in enumerate(self.plan.items):
            state, s = states.get(i), sized.get(i)
            if state is not None and s is not None:
                items.append(traded_result(state, s))
            else:
                items.append(untraded_result(i, item, s))
        return items
