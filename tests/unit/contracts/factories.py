"""Builders of valid raw plans and events; tests mutate one field to hit one rule."""

from __future__ import annotations

import copy
from typing import Any

VALID_PLAN: dict[str, Any] = {
    "schema_version": "1.0",
    "plan_id": "plan-2024-06-03.1",
    "timestamp": "2024-06-03T14:30:00+00:00",
    "items": [
        {"symbol": "SPY", "action": "BUY", "trade_amount": "1500.25", "target_weight": "0.6"},
        {"symbol": "BND", "action": "SELL", "trade_amount": -1200, "target_weight": 0.4},
        {"symbol": "GLD", "action": "HOLD", "trade_amount": 0},
    ],
}


def raw_plan(**overrides: Any) -> dict[str, Any]:
    """A deep copy of VALID_PLAN with top-level fields replaced."""
    plan = copy.deepcopy(VALID_PLAN)
    plan.update(overrides)
    return plan


def raw_item(index: int, **overrides: Any) -> dict[str, Any]:
    """VALID_PLAN with item ``index`` updated."""
    plan = copy.deepcopy(VALID_PLAN)
    plan["items"][index].update(overrides)
    return plan


def envelope(detail: object, **overrides: Any) -> dict[str, Any]:
    """An EventBridge RebalancePlanned envelope around ``detail``."""
    event: dict[str, Any] = {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "RebalancePlanned",
        "source": "portfolio.planner",
        "account": "123456789012",
        "time": "2024-06-03T14:30:01Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }
    event.update(overrides)
    return event
