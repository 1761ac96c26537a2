"""What planning returns besides a plan: a skip, or an error that means REJECTED."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from rebalance_executor.domain.plan import RebalancePlan


class SkipCode(StrEnum):
    MARKET_CLOSED = "MARKET_CLOSED"
    WITHIN_TOLERANCE = "WITHIN_TOLERANCE"


class PlanningSkip(BaseModel):
    """Nothing to do now: the caller records a ``SKIPPED`` result and sends no order.

    ``plan`` is the all-HOLD plan when the account was read (``WITHIN_TOLERANCE``), so the
    result document still shows current vs target weights; ``None`` when the market is closed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: str
    code: SkipCode
    reason: str
    plan: RebalancePlan | None = None


class PlanningError(Exception):
    """The allocation cannot be planned against this account; the caller returns ``REJECTED``.

    ``reason`` is a sentence naming the rule; ``field`` the offending payload field when any.
    Retrying cannot help, so this must never be raised for transient broker failures (those
    stay :class:`rebalance_executor.domain.broker.BrokerError` and make Lambda retry).
    """

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class InvalidAllocationError(PlanningError):
    """The allocation names a symbol the broker does not know or cannot trade."""
