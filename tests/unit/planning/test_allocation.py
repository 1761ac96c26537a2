"""The scheduled allocation model (SPEC §3.1 B): validation and the derived plan id."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from rebalance_executor.domain.allocation import AllocationOptions, TargetAllocation


def payload(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schedule_name": "monthly-60-40",
        "scheduled_time": "2026-11-02T20:45:00Z",
        "targets": {"SPY": "0.6", "BND": "0.4"},
    }
    base.update(overrides)
    return base


def error_text(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        TargetAllocation.model_validate(data)
    return str(info.value)


def test_valid_payload_has_exact_decimal_weights_and_defaults() -> None:
    allocation = TargetAllocation.model_validate(payload(targets={"spy": 0.6, "BND": "0.4"}))
    assert allocation.targets == {"SPY": Decimal("0.6"), "BND": Decimal("0.4")}
    assert allocation.total_weight == Decimal(1)
    assert allocation.options == AllocationOptions()
    assert allocation.scheduled_time == datetime(2026, 11, 2, 20, 45, tzinfo=UTC)


def test_model_is_frozen() -> None:
    allocation = TargetAllocation.model_validate(payload())
    with pytest.raises(ValidationError):
        allocation.schedule_name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("targets", "fragment"),
    [
        ({"SPY": "0.7", "BND": "0.4"}, "exceeds 1"),
        ({"SPY": "-0.1", "BND": "0.4"}, "weight in [0, 1]"),
        ({"SPY": "1.5"}, "weight in [0, 1]"),
        ({"SPY": "NaN"}, "finite"),
        ({"SPY": "Infinity"}, "finite"),
        ({"SPY": True}, "boolean"),
        ({"SPY": "abc"}, "numeric string"),
        ({"SPY": "0.5", "spy": "0.1"}, "more than once"),
        ({"S P Y": "0.5"}, "must match"),
        ({"TOOLONGSYMBOL": "0.5"}, "must match"),
        ({}, "at least 1"),
    ],
)
def test_invalid_targets_are_rejected_naming_the_rule(
    targets: dict[str, Any], fragment: str
) -> None:
    text = error_text(payload(targets=targets))
    assert "targets" in text
    assert fragment in text


def test_unknown_option_is_rejected() -> None:
    text = error_text(payload(options={"liquidate_unlisted": True, "drift": "0.1"}))
    assert "options.drift" in text
    assert "Extra inputs are not permitted" in text


def test_unknown_top_level_field_is_rejected() -> None:
    assert "plan_id" in error_text(payload(plan_id="mine"))


def test_naive_scheduled_time_is_rejected_not_guessed() -> None:
    assert "scheduled_time" in error_text(payload(scheduled_time="2026-11-02T15:45:00"))


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "slash/name"])
def test_bad_schedule_name_is_rejected(name: str) -> None:
    assert "schedule_name" in error_text(payload(schedule_name=name))


def test_options_parse_and_validate() -> None:
    allocation = TargetAllocation.model_validate(
        payload(
            options={
                "max_drift_tolerance": 0.05,
                "min_trade_notional": "25",
                "cash_reserve": "1000.50",
                "liquidate_unlisted": True,
                "fractional": False,
                "max_items": 10,
            }
        )
    )
    assert allocation.options.max_drift_tolerance == Decimal("0.05")
    assert allocation.options.cash_reserve == Decimal("1000.50")
    assert allocation.options.liquidate_unlisted is True
    assert "max_drift_tolerance" in error_text(payload(options={"max_drift_tolerance": "2"}))
    assert "cash_reserve" in error_text(payload(options={"cash_reserve": "1e13"}))


def test_more_targets_than_max_items_is_rejected() -> None:
    text = error_text(payload(options={"max_items": 1}))
    assert "max_items" in text


def test_plan_id_is_deterministic_per_tick_and_within_the_plan_id_alphabet() -> None:
    first = TargetAllocation.model_validate(payload())
    # The same instant in New York time and with seconds inside the minute: same tick.
    again = TargetAllocation.model_validate(payload(scheduled_time="2026-11-02T15:45:30-05:00"))
    later = TargetAllocation.model_validate(payload(scheduled_time="2026-12-01T20:45:00Z"))
    assert first.derived_plan_id() == "sched:monthly-60-40:2026-11-02T20:45Z"
    assert again.derived_plan_id() == first.derived_plan_id()
    assert later.derived_plan_id() != first.derived_plan_id()
    longest = TargetAllocation.model_validate(payload(schedule_name="n" * 64))
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", longest.derived_plan_id())
