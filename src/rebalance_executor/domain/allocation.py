"""Scheduled target allocation (SPEC §3.1 B, §4.9): the payload an EventBridge schedule carries.

A schedule can only deliver a fixed payload, so it names target weights instead of trades; the
planner (``rebalance_executor.planning``) turns it into a normal :class:`RebalancePlan` from the
live account. Validation here needs no broker: weights are exact ``Decimal`` in [0, 1] summing to
at most 1, symbols are well-formed and unique, unknown options are rejected. Every failure is a
pydantic ``ValidationError`` naming the field and the rule.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")
# EventBridge Scheduler's own schedule-name alphabet; a subset of the plan_id alphabet (§3.2).
SCHEDULE_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PLAN_ID_PREFIX = "sched"
MAX_MONEY = Decimal(10) ** 12


def _strict_decimal(value: object) -> Decimal:
    """Coerce a JSON number or numeric string to a finite ``Decimal``.

    Raises ValueError for booleans, NaN, ±Infinity and anything non-numeric: pydantic reports it
    against the field being validated.
    """
    if isinstance(value, bool):
        raise ValueError("must be a number or numeric string, not a boolean")  # noqa: TRY004
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | float | str):
        # str() of a float is its shortest round-trip text, so 0.6 becomes exactly Decimal("0.6").
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    else:
        raise ValueError(f"must be a number or numeric string, got {type(value).__name__}")  # noqa: TRY004
    if not result.is_finite():
        raise ValueError("must be finite (NaN and Infinity are rejected)")
    return result


StrictDecimal = Annotated[Decimal, BeforeValidator(_strict_decimal)]
Weight = Annotated[Decimal, BeforeValidator(_strict_decimal), Field(ge=0, le=1)]
Money = Annotated[Decimal, BeforeValidator(_strict_decimal), Field(ge=0, le=MAX_MONEY)]


class AllocationOptions(BaseModel):
    """Planning knobs of a schedule. Unknown keys are rejected, not ignored.

    ``cash_reserve`` is dollars kept out of the investable equity: each target's value is
    ``weight * (equity - cash_reserve)``. ``max_drift_tolerance`` is an absolute weight
    difference: a symbol whose current weight is within it of its target is held.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_drift_tolerance: Weight = Decimal("0.02")
    min_trade_notional: Money = Decimal(1)
    cash_reserve: Money = Decimal(0)
    liquidate_unlisted: bool = False
    fractional: bool = True
    max_items: int = Field(default=500, ge=1, le=10_000)
    execution_urgency: str = Field(default="NORMAL", pattern=r"^[A-Z_]{1,16}$")


class TargetAllocation(BaseModel):
    """The scheduled payload: ``schedule_name``, ``scheduled_time``, ``targets``, ``options``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schedule_name: str
    scheduled_time: AwareDatetime
    targets: dict[str, Weight] = Field(min_length=1)
    options: AllocationOptions = AllocationOptions()

    @field_validator("schedule_name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not SCHEDULE_NAME_RE.fullmatch(value):
            raise ValueError("must be 1-64 characters of [A-Za-z0-9._-]")
        return value

    @field_validator("scheduled_time")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_validator("targets", mode="before")
    @classmethod
    def _normalise_symbols(cls, value: Any) -> Any:
        """Upper-case symbols; reject malformed ones and duplicates that differ only in case."""
        if not isinstance(value, dict):
            return value  # pydantic reports the type error itself
        normalised: dict[str, Any] = {}
        for raw, weight in value.items():
            if not isinstance(raw, str):
                raise ValueError(f"symbol {raw!r} must be a string")  # noqa: TRY004
            symbol = raw.strip().upper()
            if not SYMBOL_RE.fullmatch(symbol):
                raise ValueError(f"symbol {raw!r} must match {SYMBOL_RE.pattern}")
            if symbol in normalised:
                raise ValueError(f"symbol {symbol} appears more than once")
            normalised[symbol] = weight
        return normalised

    @model_validator(mode="after")
    def _check_totals(self) -> TargetAllocation:
        total = sum(self.targets.values(), Decimal(0))
        if total > 1:
            raise ValueError(f"targets: weights sum to {total}, which exceeds 1")
        if len(self.targets) > self.options.max_items:
            raise ValueError(
                f"targets: {len(self.targets)} symbols exceed options.max_items "
                f"({self.options.max_items})"
            )
        return self

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
