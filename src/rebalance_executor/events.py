"""Parse what the Lambda receives into a validated event (SPEC §3.1 A, §3.2).

Accepted shapes: an EventBridge envelope whose ``detail`` is the plan, or whose
``detail.rebalance_plan`` is the plan (the reference system's shape); or a bare plan (CLI).
Input may be a mapping or JSON text. Every rejection is an :class:`InvalidEventError` carrying
one sentence that names the field and the rule; nothing else escapes :func:`parse_event`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final, NoReturn, TypedDict

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from rebalance_executor.domain.allocation import TargetAllocation
from rebalance_executor.domain.plan import (
    DEFAULT_MAX_PLAN_ITEMS,
    RebalancePlan,
    Timestamp,
    validate_plan,
)
from rebalance_executor.domain.validation import MAX_NUMBER_CHARS, Identifier, parse_identifier

#: EventBridge caps an event at 256 KiB; anything far larger is not from EventBridge.
MAX_EVENT_BYTES: Final = 1024 * 1024
_NESTED_PLAN_KEY: Final = "rebalance_plan"
_ENVELOPE_KEYS: Final = frozenset({"detail", "detail-type"})


class InvalidEventError(ValueError):
    """The event cannot be executed. ``reason`` is one sentence naming ``field`` and the rule."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        self.reason = f"{field}: {rule}" if field else rule
        super().__init__(self.reason)


class EventShape(StrEnum):
    """Where the plan was found, recorded for replay and diagnostics."""

    DETAIL = "detail"
    NESTED = "detail.rebalance_plan"
    BARE = "bare"


def _bounded_text(value: object) -> object:
    if isinstance(value, str) and len(value) > 256:
        raise ValueError("must be at most 256 characters")
    return value


BoundedText = Annotated[str, BeforeValidator(_bounded_text)]


class _Envelope(BaseModel):
    """The EventBridge fields we use; the rest (account, region, resources) are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    id: Identifier | None = None
    source: BoundedText | None = None
    detail_type: BoundedText | None = Field(default=None, alias="detail-type")
    time: Timestamp | None = None
    detail: dict[str, Any]


class _ParsedEventBase(BaseModel):
    """What every parsed event keeps of its envelope (all ``None`` for a bare body)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str | None = None
    source: str | None = None
    detail_type: str | None = None
    time: datetime | None = None
    shape: EventShape


class PlanEvent(_ParsedEventBase):
    """A validated ``RebalancePlanned`` event. ``plan.correlation_id`` is always set."""

    plan: RebalancePlan


class ScheduleEvent(_ParsedEventBase):
    """A validated scheduled target allocation (SPEC §3.1 B); the plan is built at run time."""

    allocation: TargetAllocation

    @property
    def plan_id(self) -> str:
        """The idempotency key, known before the broker is read."""
        return self.allocation.derived_plan_id()


#: Everything ``parse_event`` can return.
ParsedEvent = PlanEvent | ScheduleEvent
_SCHEDULE_KEYS: Final = frozenset({"schedule_name", "targets"})


def parse_event(raw: object, *, max_items: int = DEFAULT_MAX_PLAN_ITEMS) -> PlanEvent:
    """Validate a raw ``RebalancePlanned`` event (mapping or JSON text) into a :class:`PlanEvent`.

    Raises InvalidEventError (and nothing else) for any malformed, unsafe or unsupported input.
    """
    envelope, body = _unwrap(raw)
    return _parse_plan_event(envelope, body, max_items=max_items)


def parse_any_event(raw: object, *, max_items: int = DEFAULT_MAX_PLAN_ITEMS) -> ParsedEvent:
    """Like :func:`parse_event`, but also accepts a scheduled allocation (SPEC §3.1 B).

    Raises InvalidEventError (and nothing else) for any malformed, unsafe or unsupported input.
    """
    envelope, body = _unwrap(raw)
    return _dispatch(envelope, body, max_items=max_items)


def _unwrap(raw: object) -> tuple[_Envelope | None, Mapping[str, Any]]:
    document = _as_mapping(raw)
    if _ENVELOPE_KEYS & document.keys():
        envelope = _validate_envelope(document)
        return envelope, envelope.detail
    return None, document


def _dispatch(
    envelope: _Envelope | None, body: Mapping[str, Any], *, max_items: int
) -> ParsedEvent:
    """Choose the parser for the body; a new event kind is one more branch here."""
    if _SCHEDULE_KEYS & body.keys() and "items" not in body:
        return _parse_schedule_event(envelope, body, max_items=max_items)
    return _parse_plan_event(envelope, body, max_items=max_items)


def _parse_schedule_event(
    envelope: _Envelope | None, body: Mapping[str, Any], *, max_items: int
) -> ScheduleEvent:
    """Validate a target allocation; ``MAX_PLAN_ITEMS`` caps ``options.max_items`` too."""
    try:
        allocation = TargetAllocation.model_validate(body)
    except ValidationError as exc:
        _raise_first(exc)
    if len(allocation.targets) > max_items:
        raise InvalidEventError(
            "targets", f"must hold at most {max_items} symbols (MAX_PLAN_ITEMS)"
        )
    if allocation.options.max_items > max_items:
        options = allocation.options.model_copy(update={"max_items": max_items})
        allocation = allocation.model_copy(update={"options": options})
    shape = EventShape.BARE if envelope is None else EventShape.DETAIL
    return ScheduleEvent(**_envelope_fields(envelope), shape=shape, allocation=allocation)


def _parse_plan_event(
    envelope: _Envelope | None, body: Mapping[str, Any], *, max_items: int
) -> PlanEvent:
    shape = EventShape.BARE if envelope is None else EventShape.DETAIL
    plan_data: object = body
    if envelope is not None and _NESTED_PLAN_KEY in body:
        shape, plan_data = EventShape.NESTED, body[_NESTED_PLAN_KEY]
    try:
        plan = validate_plan(plan_data, max_items=max_items)
    except ValidationError as exc:
        _raise_first(exc, root="event" if envelope is None else shape.value)
    if plan.correlation_id is None:
        correlation_id = _fallback_correlation_id(envelope, body, shape, plan.plan_id)
        plan = plan.model_copy(update={"correlation_id": correlation_id})
    return PlanEvent(**_envelope_fields(envelope), shape=shape, plan=plan)


class _EnvelopeFields(TypedDict, total=False):
    event_id: str | None
    source: str | None
    detail_type: str | None
    time: datetime | None


def _envelope_fields(envelope: _Envelope | None) -> _EnvelopeFields:
    """The envelope fields a parsed event keeps (``None`` each for a bare body)."""
    if envelope is None:
        return {}
    return {
        "event_id": envelope.id,
        "source": envelope.source,
        "detail_type": envelope.detail_type,
        "time": envelope.time,
    }


def _fallback_correlation_id(
    envelope: _Envelope | None, body: Mapping[str, Any], shape: EventShape, plan_id: str
) -> str:
    """The reference shape carries ``correlation_id`` beside the plan; else the event id."""
    if shape is EventShape.NESTED and body.get("correlation_id") is not None:
        try:
            return parse_identifier(body["correlation_id"])
        except ValueError as exc:
            raise InvalidEventError("detail.correlation_id", str(exc)) from None
    if envelope is not None and envelope.id is not None:
        return envelope.id
    return plan_id  # bare plan without ids (CLI): the plan id still ties the logs together


def _as_mapping(raw: object) -> dict[str, Any]:
    if isinstance(raw, bytes | bytearray | str):
        raw = _load_json(raw)
    if not isinstance(raw, Mapping):
        raise InvalidEventError("event", "must be a JSON object")
    return dict(raw)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


def _exact_float(text: str) -> Decimal:
    # Same bound as numeric strings (validation.MAX_NUMBER_CHARS): no 10,000-digit "prices".
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"number longer than {MAX_NUMBER_CHARS} characters")
    return Decimal(text)


def _load_json(text: str | bytes | bytearray) -> object:
    if len(text) > MAX_EVENT_BYTES:
        raise InvalidEventError("event", f"must be at most {MAX_EVENT_BYTES} bytes of JSON")
    try:
        # Decimal keeps the exact digits written; NaN/Infinity are not JSON at all.
        return json.loads(text, parse_float=_exact_float, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidEventError("event", "must not be nested this deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        raise InvalidEventError("event", f"must be valid JSON ({_first_line(exc)})") from None


def _validate_envelope(document: Mapping[str, Any]) -> _Envelope:
    try:
        return _Envelope.model_validate(document)
    except ValidationError as exc:
        _raise_first(exc)


def _raise_first(exc: ValidationError, root: str = "event") -> NoReturn:
    """Turn pydantic's multi-line report into one sentence about the first problem.

    Plan fields are named relative to the plan ("items.2.trade_amount"); ``root`` names the
    whole object when the problem is the object itself.
    """
    first = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or root
    raise InvalidEventError(field, _rule_text(first)) from None


def _rule_text(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "value_error":
        return _first_line(error.get("ctx", {}).get("error", error["msg"]))
    if kind == "missing":
        return "is required"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return "must be a JSON object"
    message = _first_line(error["msg"])
    if message.startswith("Input should be"):
        message = "must be" + message.removeprefix("Input should be")
    return message


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else "is invalid"
