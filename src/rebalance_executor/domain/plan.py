"""The rebalance plan (SPEC §3.2). Field names follow the reference system.

Validation rules (each failure names the field and the rule) are owned here; the event parser
in ``rebalance_executor.events`` unwraps EventBridge envelopes and hands ``detail`` to these models.
Validate untrusted input with :func:`validate_plan` (or ``RebalancePlan.model_validate(data,
context={"max_items": n})``); every rule violation raises ``pydantic.ValidationError`` whose
messages are short phrases such as "must be a finite number".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from rebalance_executor.domain.validation import (
    Identifier,
    Money,
    NonNegativeMoney,
    Symbol,
    Weight,
    WeightDiff,
    parse_strict_int,
)

#: SPEC §3.2 default for ``MAX_PLAN_ITEMS``; the settings value is passed as validation context.
DEFAULT_MAX_PLAN_ITEMS: Final = 500
MAX_ITEMS_CONTEXT_KEY: Final = "max_items"
_SCHEMA_VERSION = re.compile(r"1(\.[0-9]{1,4}){0,2}")
_URGENCY = re.compile(r"[A-Z_]{1,32}")
_MAX_TIMESTAMP_CHARS = 64
_MAX_METADATA_DEPTH = 16


class Action(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


def _parse_action(value: object) -> object:
    # Producers differ in case ("buy" vs "BUY"); anything else is left for the enum to refuse.
    if isinstance(value, str) and value.isascii():
        return value.upper()
    return value


def _parse_priority(value: object) -> int:
    return parse_strict_int(value, low=1, high=5)


def _parse_duration(value: object) -> int:
    return parse_strict_int(value, low=0, high=24 * 60)


def _parse_timestamp_input(value: object) -> object:
    # Only ISO-8601 text or a datetime: a bare number would be guessed as epoch seconds in UTC.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) <= _MAX_TIMESTAMP_CHARS:
        return value
    raise ValueError("must be an ISO-8601 timestamp with a timezone")


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be timezone-aware (naive timestamps are rejected, not guessed)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # e.g. 0001-01-01T00:00:00+01:00 has no UTC representation.
        raise ValueError("must be a representable UTC time") from None


def _parse_schema_version(value: object) -> str:
    if not isinstance(value, str) or _SCHEMA_VERSION.fullmatch(value) is None:
        raise ValueError("must be a 1.x version string such as '1.0'")
    return value


def _parse_urgency(value: object) -> str:
    if not isinstance(value, str) or not value.isascii():
        raise ValueError("must be a string of 1-32 letters or underscores")
    urgency = value.upper()
    if _URGENCY.fullmatch(urgency) is None:
        raise ValueError("must be a string of 1-32 letters or underscores")
    return urgency


def _check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    # Iterative depth check: hostile nesting must fail here, not as RecursionError in json.dumps.
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_METADATA_DEPTH:
            raise ValueError(f"must not nest deeper than {_MAX_METADATA_DEPTH} levels")
        if isinstance(node, float) and not math.isfinite(node):
            # NaN/Infinity would make the stored result document invalid JSON.
            raise ValueError("must not contain NaN or Infinity")
        if isinstance(node, Mapping):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((child, depth + 1) for child in node)
    return value


Timestamp = Annotated[datetime, BeforeValidator(_parse_timestamp_input), AfterValidator(_to_utc)]


class PlanItem(BaseModel):
    """One line of the plan. ``trade_amount`` is signed dollars: +buy, -sell, 0 hold."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    symbol: Symbol
    action: Annotated[Action, BeforeValidator(_parse_action)]
    trade_amount: Money
    target_weight: Weight | None = None
    current_weight: Weight | None = None
    target_value: Money | None = None
    current_value: Money | None = None
    weight_diff: WeightDiff | None = None
    priority: Annotated[int, BeforeValidator(_parse_priority)] = 3

    @field_validator("trade_amount")
    @classmethod
    def _sign_matches_action(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        action = info.data.get("action")  # absent when the action itself was invalid
        if action is Action.BUY and value <= 0:
            raise ValueError(f"must be > 0 for action BUY (got {value})")
        if action is Action.SELL and value >= 0:
            raise ValueError(f"must be < 0 for action SELL (got {value})")
        if action is Action.HOLD and value != 0:
            raise ValueError(f"must be 0 for action HOLD (got {value})")
        return value

    @property
    def is_liquidation(self) -> bool:
        """A SELL with target weight exactly zero sells the whole position."""
        return self.action is Action.SELL and self.target_weight == 0


class RebalancePlan(BaseModel):
    """A validated plan; ``timestamp`` is UTC, symbols are upper-case and unique."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Annotated[str, BeforeValidator(_parse_schema_version)] = "1.0"
    plan_id: Identifier
    correlation_id: Identifier | None = None
    causation_id: Identifier | None = None
    timestamp: Timestamp
    items: tuple[PlanItem, ...]
    total_portfolio_value: NonNegativeMoney | None = None
    total_trade_value: Money | None = None
    max_drift_tolerance: Weight = Decimal("0.05")
    execution_urgency: Annotated[str, BeforeValidator(_parse_urgency)] = "NORMAL"
    estimated_duration_minutes: Annotated[int, BeforeValidator(_parse_duration)] | None = None
    metadata: Annotated[dict[str, Any], AfterValidator(_check_metadata)] = Field(
        default_factory=dict
    )

    @field_validator("items", mode="before")
    @classmethod
    def _bounded_item_count(cls, value: object, info: ValidationInfo) -> object:
        # Checked before the items are validated so a million-item list costs one len().
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of items")  # noqa: TRY004
        context = info.context if isinstance(info.context, Mapping) else {}
        limit = context.get(MAX_ITEMS_CONTEXT_KEY, DEFAULT_MAX_PLAN_ITEMS)
        if len(value) > limit:
            raise ValueError(f"must hold at most {limit} items (MAX_PLAN_ITEMS), got {len(value)}")
        return value

    @field_validator("items")
    @classmethod
    def _unique_symbols(cls, value: tuple[PlanItem, ...]) -> tuple[PlanItem, ...]:
        first_seen: dict[str, int] = {}
        for index, item in enumerate(value):
            if item.symbol in first_seen:
                raise ValueError(
                    f"symbol {item.symbol} appears twice (items.{first_seen[item.symbol]} "
                    f"and items.{index}); a plan names each symbol once"
                )
            first_seen[item.symbol] = index
        return value


def validate_plan(data: object, *, max_items: int = DEFAULT_MAX_PLAN_ITEMS) -> RebalancePlan:
    """Validate untrusted plan data (a mapping or a RebalancePlan).

    Raises pydantic.ValidationError naming the field and the rule on any violation.
    """
    return RebalancePlan.model_validate(data, context={MAX_ITEMS_CONTEXT_KEY: max_items})
