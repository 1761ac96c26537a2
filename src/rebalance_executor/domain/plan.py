"""The rebalance plan (SPEC §3.2). Field names follow the reference system.

Validation rules (each failure names the field and the rule) are owned here; the event parser
in ``rebalance_executor.events`` unwraps EventBridge envelopes and hands ``detail`` to these models.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Action(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


class PlanItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    symbol: str
    action: Action
    trade_amount: Decimal
    target_weight: Decimal | None = None
    current_weight: Decimal | None = None
    target_value: Decimal | None = None
    current_value: Decimal | None = None
    weight_diff: Decimal | None = None
    priority: int = Field(default=3, ge=1, le=5)

    @property
    def is_liquidation(self) -> bool:
        """A SELL with target weight exactly zero sells the whole position."""
        return self.action is Action.SELL and self.target_weight == 0


class RebalancePlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: str = "1.0"
    plan_id: str
    correlation_id: str | None = None
    causation_id: str | None = None
    timestamp: datetime
    items: tuple[PlanItem, ...]
    total_portfolio_value: Decimal | None = None
    total_trade_value: Decimal | None = None
    max_drift_tolerance: Decimal = Decimal("0.05")
    execution_urgency: str = "NORMAL"
    estimated_duration_minutes: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
