"""Scheduled target allocation (SPEC §3.1 B, §4.9): the payload an EventBridge schedule carries.

A schedule can only deliver a fixed payload, so it names target weights instead of trades; the
planner (``rebalance_executor.planning``) turns it into a normal :class:`RebalancePlan` from the
live account. Validation here needs no broker: weights are exact ``Decimal`` in [0, 1] summing to
at most 1, symbols are well-formed and unique, unknown options are rejected. Every failure is a
pydantic ``ValidationError`` naming the field and the rule.
"""

from __future__ import annotations

import re
from datetime import UTC
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from rebalance_executor.domain.plan import Timestamp
from rebalance_executor.domain.validation import (
    NonNegativeMoney,
    Weight,
    parse_strict_int,
    parse_symbol,
)

# EventBridge Scheduler's own schedule-name alphabet; a subset of the plan_id alphabet (§3.2).
SCHEDULE_NAME_RE: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
PLAN_ID_PREFIX: Final = "sched"
MAX_ALLOCATION_ITEMS: Final = 10_000


def _parse_max_items(value: object) -> int:
    return parse_strict_int(value, low=1, high=MAX_ALLOCATION_ITEMS)


class AllocationOptions(BaseModel):
    """Planning knobs of a schedule. Unknown keys are rejected, not ignored.

    ``cash_reserve`` is dollars kept out of the investable equity: each target's value is
    ``weight * (equity - cash_reserve)``. ``max_drift_tolerance`` is an absolute weight
    difference: a symbol whose current weight is within it of its target is held.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_drift_tolerance: Weight = Decimal("0.02")
    min_trade_notional: NonNegativeMoney = Decimal(1)
    cash_reserve: NonNegativeMoney = Decimal(0)
    liquidate_unlisted: bool = Field(default=False, strict=True)
    fractional: bool = Field(default=True, strict=True)
    max_items: Annotated[int, BeforeValidator(_parse_max_items)] = 500
    execution_urgency: str = Field(default="NORMAL", pattern=r"^[A-Z_]{1,16}$")


class TargetAllocation(BaseModel):
    """The scheduled payload: ``schedule_name``, ``scheduled_time``, ``targets``, ``options``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schedule_name: str
    scheduled_time: Timestamp
    # Declared before ``targets`` so the targets validator can read ``options.max_items``.
    options: AllocationOptions = AllocationOptions()
    targets: dict[str, Weight] = Field(min_length=1)

    @field_validator("schedule_name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if SCHEDULE_NAME_RE.fullmatch(value) is None:
            raise ValueError("must be 1-64 characters of [A-Za-z0-9._-]")
        return value

    @field_validator("targets", mode="before")
    @classmethod
    def _normalise_symbols(cls, value: Any) -> Any:
        """Upper-case symbols; reject malformed ones and duplicates that differ only in case."""
        if not isinstance(value, dict):
            return value  # pydantic reports the type error itself
        normalised: dict[str, Any] = {}
        for raw, weight in value.items():
            try:
                symbol = parse_symbol(raw)
            except ValueError as exc:
                raise ValueError(f"symbol {str(raw)[:16]!r} {exc}") from None
            if symbol in normalised:
                raise ValueError(f"symbol {symbol} appears more than once")
            normalised[symbol] = weight
        return normalised

    @field_validator("targets")
    @classmethod
    def _check_totals(cls, value: dict[str, Decimal], info: ValidationInfo) -> dict[str, Decimal]:
        total = sum(value.values(), Decimal(0))
        if total > 1:
            raise ValueError(f"weights sum to {total}, which exceeds 1")
        options = info.data.get("options")  # absent when the options themselves were invalid
        if isinstance(options, AllocationOptions) and len(value) > options.max_items:
            raise ValueError(f"{len(value)} symbols exceed options.max_items ({options.max_items})")
        return value

    @property
    def total_weight(self) -> Decimal:
        return sum(self.targets.values(), Decimal(0))

    def derived_plan_id(self) -> str:
        """``sched:<name>:<UTC minute>``: the same tick always maps to the same plan id.

        A redelivered or retried tick therefore hits the same idempotency record; the next tick
        (another minute) is a new plan. Always within the §3.2 plan_id alphabet and ≤ 128 chars.
        """
        minute = self.scheduled_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        return f"{PLAN_ID_PREFIX}:{self.schedule_name}:{minute}"
