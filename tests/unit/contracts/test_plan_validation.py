"""SPEC §3.2: every validation rule, with the exact field and rule each rejection names."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from rebalance_executor.domain.plan import Action, RebalancePlan, validate_plan
from rebalance_executor.events import InvalidEventError, parse_event
from tests.unit.contracts.factories import VALID_PLAN, raw_item, raw_plan


def _without(key: str) -> dict[str, Any]:
    """The valid plan with ``key`` left out."""
    return {k: v for k, v in VALID_PLAN.items() if k != key}


def _nested(depth: int) -> dict[str, Any]:
    """``{"x": {"x": ...}}`` nested ``depth`` levels deep."""
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth):
        node["x"] = {}
        node = node["x"]
    return root


REJECTIONS: list[tuple[str, dict[str, Any], str, str]] = [
    # (case id, raw plan, field, rule phrase)
    ("plan_id missing", _without("plan_id"), "plan_id", "is required"),
    ("plan_id empty", raw_plan(plan_id=""), "plan_id", "1-128 characters of A-Z a-z 0-9 . _ : -"),
    ("plan_id too long", raw_plan(plan_id="p" * 129), "plan_id", "1-128 characters"),
    ("plan_id bad char", raw_plan(plan_id="plan/1"), "plan_id", "1-128 characters"),
    ("plan_id number", raw_plan(plan_id=42), "plan_id", "must be a string"),
    (
        "correlation_id injection",
        raw_plan(correlation_id="a\nlevel=ERROR"),
        "correlation_id",
        "1-128 characters",
    ),
    ("timestamp missing", _without("timestamp"), "timestamp", "is required"),
    (
        "timestamp naive",
        raw_plan(timestamp="2024-06-03T14:30:00"),
        "timestamp",
        "must be timezone-aware (naive timestamps are rejected, not guessed)",
    ),
    (
        "timestamp epoch number",
        raw_plan(timestamp=1717425000),
        "timestamp",
        "must be an ISO-8601 timestamp with a timezone",
    ),
    ("timestamp garbage", raw_plan(timestamp="yesterday"), "timestamp", "valid datetime"),
    (
        "timestamp not in UTC range",
        raw_plan(timestamp="0001-01-01T00:00:00+01:00"),
        "timestamp",
        "must be a representable UTC time",
    ),
    ("items missing", _without("items"), "items", "is required"),
    ("items not a list", raw_plan(items={"SPY": 1}), "items", "must be a list of items"),
    ("item not an object", raw_plan(items=["SPY"]), "items.0", "must be a JSON object"),
    (
        "too many items",
        raw_plan(
            items=[{"symbol": f"S{i}", "action": "HOLD", "trade_amount": 0} for i in range(501)]
        ),
        "items",
        "must hold at most 500 items (MAX_PLAN_ITEMS), got 501",
    ),
    (
        "symbol pattern",
        raw_item(0, symbol="1SPY"),
        "items.0.symbol",
        "must match ^[A-Z][A-Z0-9.]{0,9}$ after upper-casing",
    ),
    ("symbol too long", raw_item(0, symbol="ABCDEFGHIJK"), "items.0.symbol", "must match"),
    ("symbol injection", raw_item(0, symbol="SPY;DROP"), "items.0.symbol", "must match"),
    ("symbol unicode folding", raw_item(0, symbol="\u00dfPY"), "items.0.symbol", "must match"),
    ("symbol not a string", raw_item(0, symbol=123), "items.0.symbol", "must be a string"),
    (
        "duplicate symbol",
        raw_item(1, symbol="spy", action="BUY", trade_amount=5),
        "items",
        "symbol SPY appears twice (items.0 and items.1); a plan names each symbol once",
    ),
    (
        "unknown action",
        raw_item(0, action="SHORT"),
        "items.0.action",
        "must be 'BUY', 'SELL' or 'HOLD'",
    ),
    (
        "BUY with negative amount",
        raw_item(0, trade_amount="-5"),
        "items.0.trade_amount",
        "must be > 0 for action BUY (got -5)",
    ),
    (
        "BUY with zero",
        raw_item(0, trade_amount=0),
        "items.0.trade_amount",
        "must be > 0 for action BUY (got 0)",
    ),
    (
        "SELL with positive amount",
        raw_item(1, trade_amount=10),
        "items.1.trade_amount",
        "must be < 0 for action SELL (got 10)",
    ),
    (
        "HOLD with amount",
        raw_item(2, trade_amount="0.01"),
        "items.2.trade_amount",
        "must be 0 for action HOLD (got 0.01)",
    ),
    (
        "trade_amount NaN string",
        raw_item(0, trade_amount="NaN"),
        "items.0.trade_amount",
        "must be a finite number",
    ),
    (
        "trade_amount NaN float",
        raw_item(0, trade_amount=float("nan")),
        "items.0.trade_amount",
        "must be a finite number",
    ),
    (
        "trade_amount Infinity",
        raw_item(0, trade_amount="Infinity"),
        "items.0.trade_amount",
        "must be a finite number",
    ),
    (
        "trade_amount -inf float",
        raw_item(1, trade_amount=float("-inf")),
        "items.1.trade_amount",
        "must be a finite number",
    ),
    (
        "trade_amount boolean",
        raw_item(0, trade_amount=True),
        "items.0.trade_amount",
        "must be a number, not a boolean",
    ),
    (
        "trade_amount absurd",
        raw_item(0, trade_amount="1000000000000.01"),
        "items.0.trade_amount",
        "must be at most 1e12 dollars in magnitude",
    ),
    (
        "trade_amount huge exponent",
        raw_item(0, trade_amount="1e999999999"),
        "items.0.trade_amount",
        "must be at most 1e12 dollars",
    ),
    (
        "trade_amount text",
        raw_item(0, trade_amount="ten"),
        "items.0.trade_amount",
        "must be a number or a numeric string",
    ),
    (
        "trade_amount list",
        raw_item(0, trade_amount=[1]),
        "items.0.trade_amount",
        "must be a number or a numeric string",
    ),
    (
        "trade_amount very long string",
        raw_item(0, trade_amount="1" + "0" * 60),
        "items.0.trade_amount",
        "numeric string of at most 40 characters",
    ),
    (
        "target_weight above 1",
        raw_item(0, target_weight="1.01"),
        "items.0.target_weight",
        "must be a weight in [0, 1]",
    ),
    (
        "current_weight negative",
        raw_item(0, current_weight=-0.1),
        "items.0.current_weight",
        "must be a weight in [0, 1]",
    ),
    (
        "weight_diff out of range",
        raw_item(0, weight_diff=2),
        "items.0.weight_diff",
        "must be in [-1, 1]",
    ),
    ("priority 0", raw_item(0, priority=0), "items.0.priority", "must be between 1 and 5"),
    ("priority 6", raw_item(0, priority="6"), "items.0.priority", "must be between 1 and 5"),
    ("priority fraction", raw_item(0, priority=2.5), "items.0.priority", "must be a whole number"),
    ("priority boolean", raw_item(0, priority=True), "items.0.priority", "not a boolean"),
    (
        "total_portfolio_value negative",
        raw_plan(total_portfolio_value=-1),
        "total_portfolio_value",
        "must be >= 0",
    ),
    (
        "total_trade_value absurd",
        raw_plan(total_trade_value=1e13),
        "total_trade_value",
        "must be at most 1e12 dollars",
    ),
    (
        "max_drift_tolerance above 1",
        raw_plan(max_drift_tolerance=5),
        "max_drift_tolerance",
        "must be a weight in [0, 1]",
    ),
    (
        "schema_version unsupported",
        raw_plan(schema_version="2.0"),
        "schema_version",
        "must be a 1.x version string",
    ),
    (
        "execution_urgency injection",
        raw_plan(execution_urgency="<script>"),
        "execution_urgency",
        "1-32 letters or underscores",
    ),
    (
        "estimated_duration_minutes negative",
        raw_plan(estimated_duration_minutes=-1),
        "estimated_duration_minutes",
        "must be between 0 and 1440",
    ),
    ("metadata not an object", raw_plan(metadata=[1]), "metadata", "must be a JSON object"),
    (
        "metadata nested too deeply",
        raw_plan(metadata=_nested(40)),
        "metadata",
        "must not nest deeper than 16",
    ),
    (
        "metadata non-finite float",
        raw_plan(metadata={"score": [1.0, float("inf")]}),
        "metadata",
        "must not contain NaN or Infinity",
    ),
]


@pytest.mark.parametrize(
    ("raw", "field", "rule"),
    [pytest.param(raw, field, rule, id=case) for case, raw, field, rule in REJECTIONS],
)
def test_each_rule_rejects_with_field_and_rule(raw: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    assert caught.value.field == field
    assert rule in caught.value.reason
    assert caught.value.reason.startswith(f"{field}: ")
    assert "\n" not in caught.value.reason


def test_valid_plan_is_normalised() -> None:
    plan = parse_event(
        raw_plan(
            timestamp="2024-06-03T16:30:00+02:00",
            items=[
                {"symbol": "brk.b", "action": "buy", "trade_amount": 0.1, "priority": "2"},
                {"symbol": "SPY", "action": "SELL", "trade_amount": "-1e2", "target_weight": 0},
            ],
        )
    ).plan
    assert plan.timestamp == datetime(2024, 6, 3, 14, 30, tzinfo=UTC)
    buy, sell = plan.items
    assert (buy.symbol, buy.action, buy.priority) == ("BRK.B", Action.BUY, 2)
    # float goes through str(): exactly 0.1, no binary noise
    assert buy.trade_amount == Decimal("0.1")
    assert sell.trade_amount == Decimal(-100)
    assert sell.is_liquidation
    assert not buy.is_liquidation


def test_sell_with_nonzero_target_weight_is_not_liquidation() -> None:
    plan = parse_event(raw_plan()).plan
    assert plan.items[1].action is Action.SELL
    assert not plan.items[1].is_liquidation


def test_defaults_for_optional_fields() -> None:
    plan = parse_event(raw_plan(items=[{"symbol": "SPY", "action": "BUY", "trade_amount": 1}])).plan
    assert plan.schema_version == "1.0"
    assert plan.max_drift_tolerance == Decimal("0.05")
    assert plan.execution_urgency == "NORMAL"
    assert plan.items[0].priority == 3
    assert plan.items[0].target_weight is None
    assert plan.metadata == {}


def test_boundaries_are_inclusive() -> None:
    plan = parse_event(
        raw_plan(
            items=[
                {
                    "symbol": "A",
                    "action": "BUY",
                    "trade_amount": "1000000000000",
                    "target_weight": 1,
                    "priority": 5,
                },
                {
                    "symbol": "B",
                    "action": "SELL",
                    "trade_amount": -1e12,
                    "target_weight": "0",
                    "priority": 1,
                },
            ],
            plan_id="p" * 128,
        )
    ).plan
    assert plan.items[0].trade_amount == Decimal(10) ** 12
    assert plan.items[1].trade_amount == -(Decimal(10) ** 12)


def test_max_items_is_configurable() -> None:
    items = [{"symbol": f"S{i}", "action": "HOLD", "trade_amount": 0} for i in range(3)]
    assert len(parse_event(raw_plan(items=items), max_items=3).plan.items) == 3
    with pytest.raises(InvalidEventError, match=r"at most 2 items \(MAX_PLAN_ITEMS\), got 3"):
        parse_event(raw_plan(items=items), max_items=2)


def test_validate_plan_enforces_context_limit() -> None:
    items = [{"symbol": f"S{i}", "action": "HOLD", "trade_amount": 0} for i in range(2)]
    with pytest.raises(ValidationError, match="at most 1 items"):
        validate_plan(raw_plan(items=items), max_items=1)


def test_plan_is_frozen() -> None:
    plan = parse_event(raw_plan()).plan
    with pytest.raises(ValidationError):
        plan.plan_id = "other"  # type: ignore[misc]


def test_round_trip_through_json_is_stable() -> None:
    """Results store the plan as JSON; reading it back must give the same plan."""
    plan = parse_event(raw_plan(correlation_id="c-1")).plan
    again = RebalancePlan.model_validate_json(plan.model_dump_json())
    assert again == plan
