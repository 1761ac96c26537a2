"""Order-working policies; ``policy_for`` picks the configured one."""

from __future__ import annotations

from rebalance_executor.domain.config import ExecutionPolicy
from rebalance_executor.executor.policies.base import (
    Desired,
    DesiredKind,
    OrderPolicy,
    PolicyInput,
    UnsupportedPolicyError,
    round_to_tick,
    tick_size,
)
from rebalance_executor.executor.policies.market import MarketPolicy

__all__ = [
    "Desired",
    "DesiredKind",
    "MarketPolicy",
    "OrderPolicy",
    "PolicyInput",
    "UnsupportedPolicyError",
    "policy_for",
    "round_to_tick",
    "tick_size",
]


def policy_for(policy: ExecutionPolicy) -> OrderPolicy:
    """The policy implementation; raises UnsupportedPolicyError for one not built yet."""
    if policy is ExecutionPolicy.MARKET:
        return MarketPolicy()
    raise UnsupportedPolicyError(f"execution policy {policy.value!r} is not implemented yet")
