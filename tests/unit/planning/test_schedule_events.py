"""parse_any_event: scheduled allocations bare (Scheduler) and in an EventBridge envelope."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rebalance_executor.cli.events_io import restamp
from rebalance_executor.events import (
    EventShape,
    InvalidEventError,
    PlanEvent,
    ScheduleEvent,
    parse_any_event,
    parse_event,
)

EVENTS = Path(__file__).resolve().parents[3] / "events"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


def test_bare_sample_is_a_schedule_event_with_its_derived_plan_id() -> None:
    event = parse_any_event(load("scheduled_allocation.json"))
    assert isinstance(event, ScheduleEvent)
    assert event.shape is EventShape.BARE
    assert event.plan_id == "sched:monthly-60-40:2026-11-02T20:45Z"


def test_envelope_sample_is_unwrapped_from_detail() -> None:
    raw = (EVENTS / "scheduled_allocation_envelope.json").read_text()
    event = parse_any_event(raw)
    assert isinstance(event, ScheduleEvent)
    assert event.shape is EventShape.DETAIL
    assert event.event_id == "7bf73129-1428-4cd3-a780-95db273d1602"
    bare = parse_any_event(load("scheduled_allocation.json"))
    assert isinstance(bare, ScheduleEvent)
    assert event.plan_id == bare.plan_id


def test_plan_events_still_parse_as_plans() -> None:
    plan = {"plan_id": "p1", "timestamp": "2026-11-02T20:45:00Z", "items": []}
    assert isinstance(parse_any_event(plan), PlanEvent)


@pytest.mark.parametrize(
    ("targets", "field"),
    [
        ({"SPY": "0.7", "BND": "0.4"}, "targets"),
        ({"SPY": "-0.1"}, "targets.SPY"),
        ({"SPY": "0.1", "1BAD": "0.1"}, "targets"),
    ],
)
def test_invalid_allocation_is_an_invalid_event_naming_the_field(
    targets: dict[str, str], field: str
) -> None:
    raw = load("scheduled_allocation.json") | {"targets": targets}
    with pytest.raises(InvalidEventError) as info:
        parse_any_event(raw)
    assert info.value.field == field
    assert info.value.reason.startswith(field)


def test_unknown_option_is_an_invalid_event() -> None:
    raw = load("scheduled_allocation.json")
    raw["options"] = {"rebalance_everything": True}
    with pytest.raises(InvalidEventError) as info:
        parse_any_event(raw)
    assert info.value.field == "options.rebalance_everything"


def test_max_plan_items_caps_the_allocation() -> None:
    raw = load("scheduled_allocation.json")
    with pytest.raises(InvalidEventError, match="MAX_PLAN_ITEMS"):
        parse_any_event(raw, max_items=1)
    event = parse_any_event(raw, max_items=3)
    assert isinstance(event, ScheduleEvent)
    assert event.allocation.options.max_items == 3


def test_plan_only_parser_refuses_a_schedule_payload() -> None:
    with pytest.raises(InvalidEventError):
        parse_event(load("scheduled_allocation.json"))


@pytest.mark.parametrize(
    "name", ["scheduled_allocation.json", "scheduled_allocation_envelope.json"]
)
def test_cli_restamp_moves_the_schedule_tick_to_now(name: str) -> None:
    now = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    event = parse_any_event(restamp(load(name), now))
    assert isinstance(event, ScheduleEvent)
    assert event.allocation.scheduled_time == now
    assert event.plan_id.endswith(":2026-03-02T15:30Z")
