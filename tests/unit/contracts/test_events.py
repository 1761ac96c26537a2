"""SPEC §3.1 A: envelope shapes, bare plans, JSON text, and clear one-sentence rejections."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from rebalance_executor.events import EventShape, InvalidEventError, PlanEvent, parse_event
from tests.unit.contracts.factories import envelope, raw_plan

EVENT_ID = "7bf73129-1428-4cd3-a780-95db273d1602"


def test_plan_as_detail() -> None:
    event = parse_event(envelope(raw_plan()))
    assert event.shape is EventShape.DETAIL
    assert event.event_id == EVENT_ID
    assert event.source == "portfolio.planner"
    assert event.detail_type == "RebalancePlanned"
    assert event.time == datetime(2024, 6, 3, 14, 30, 1, tzinfo=UTC)
    assert event.plan.plan_id == "plan-2024-06-03.1"
    # correlation id defaults to the event id
    assert event.plan.correlation_id == EVENT_ID


def test_plan_as_detail_rebalance_plan_reference_shape() -> None:
    detail = {"rebalance_plan": raw_plan(), "correlation_id": "corr-9", "event_id": "x"}
    event = parse_event(envelope(detail))
    assert event.shape is EventShape.NESTED
    assert event.plan.correlation_id == "corr-9"


def test_both_shapes_give_the_same_plan() -> None:
    flat = parse_event(envelope(raw_plan(correlation_id="c")))
    nested = parse_event(envelope({"rebalance_plan": raw_plan(correlation_id="c")}))
    assert flat.plan == nested.plan


def test_plan_correlation_id_wins_over_event_id() -> None:
    event = parse_event(envelope({"rebalance_plan": raw_plan(correlation_id="mine")}))
    assert event.plan.correlation_id == "mine"


def test_nested_shape_without_correlation_uses_event_id() -> None:
    event = parse_event(envelope({"rebalance_plan": raw_plan()}))
    assert event.plan.correlation_id == EVENT_ID


def test_bare_plan_for_cli() -> None:
    event = parse_event(raw_plan())
    assert event.shape is EventShape.BARE
    assert event.event_id is None
    assert event.plan.correlation_id == "plan-2024-06-03.1"


def test_json_text_and_bytes_are_accepted_with_exact_decimals() -> None:
    text = json.dumps(envelope(raw_plan())).replace('"1500.25"', "1500.25")
    assert parse_event(text).plan.items[0].trade_amount.as_tuple().exponent == -2
    assert parse_event(text.encode()).plan == parse_event(text).plan


def test_parsed_event_is_frozen() -> None:
    event = parse_event(raw_plan())
    assert isinstance(event, PlanEvent)
    with pytest.raises(ValueError, match="frozen"):
        event.event_id = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(None, "event: must be a JSON object", id="null"),
        pytest.param([raw_plan()], "event: must be a JSON object", id="list"),
        pytest.param("not json", "event: must be valid JSON (Expecting value", id="bad-json"),
        pytest.param('{"a": NaN}', "event: must be valid JSON (NaN is not a number)", id="nan"),
        pytest.param(b"\xff\xfe", "event: must be valid JSON", id="bad-bytes"),
        pytest.param(
            '{"plan_id": "p", "x": 0.' + "1" * 60 + "}",
            "event: must be valid JSON (number longer than 40 characters)",
            id="long-float",
        ),
        pytest.param("[" * 100_000, "event: must", id="deep-json"),
        pytest.param(" " * (1024 * 1024 + 1), "event: must be at most 1048576 bytes", id="big"),
        pytest.param(envelope(None), "detail: must be a JSON object", id="detail-null"),
        pytest.param(envelope("plan"), "detail: must be a JSON object", id="detail-str"),
        pytest.param(
            {k: v for k, v in envelope({}).items() if k != "detail"},
            "detail: is required",
            id="detail-missing",
        ),
        pytest.param(envelope({}), "plan_id: is required", id="detail-empty"),
        pytest.param(
            envelope(raw_plan(), id="bad id\n"),
            "id: must be 1-128 characters",
            id="event-id-injection",
        ),
        pytest.param(
            envelope(raw_plan(), time="2024-06-03T14:30:01"),
            "time: must be timezone-aware",
            id="envelope-naive-time",
        ),
        pytest.param(
            envelope({"rebalance_plan": "x"}),
            "detail.rebalance_plan: must be a JSON object",
            id="nested-not-object",
        ),
        pytest.param(
            envelope({"rebalance_plan": raw_plan(), "correlation_id": "a b"}),
            "detail.correlation_id: must be 1-128 characters",
            id="nested-correlation-invalid",
        ),
        pytest.param(
            envelope(raw_plan(), source="s" * 300),
            "source: must be at most 256 characters",
            id="source-too-long",
        ),
    ],
)
def test_rejections_are_one_clear_sentence(raw: Any, reason: str) -> None:
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    assert caught.value.reason.startswith(reason)
    assert str(caught.value) == caught.value.reason
    assert "\n" not in caught.value.reason
    assert "pydantic" not in caught.value.reason


def test_error_is_a_value_error_with_field() -> None:
    with pytest.raises(
        ValueError, match=r"items\.0\.trade_amount: must be a finite number"
    ) as caught:
        parse_event(
            envelope(raw_plan(items=[{"symbol": "A", "action": "BUY", "trade_amount": "inf"}]))
        )
    assert isinstance(caught.value, InvalidEventError)
    assert caught.value.field == "items.0.trade_amount"
    assert caught.value.rule == "must be a finite number"


def test_first_error_only_when_many() -> None:
    raw = raw_plan(plan_id="bad id", timestamp="naive")
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    assert caught.value.field == "plan_id"
