"""Order-working policies; ``policy_for`` picks the configured one."""

from __future__ import annotations

from rebalance_executor.domain.config import ExecutionPolicy
from rebalance_executor.executor.policies.anchor import AnchorPolicy
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
from rebalance_executor.executor.policies.smart import SmartPolicy

__all__ = [
    "AnchorPolicy",
    "Desired",
    "DesiredKind",
    "MarketPolicy",
    "OrderPolicy",
    "PolicyInput",
    "SmartPolicy",
    "UnsupportedPolicyError",
    "policy_for",
    "round_to_tick",
    "tick_size",
]


def policy_for(policy: ExecutionPolicy) -> OrderPolicy:
    """The policy implementation; raises UnsupportedPolicyError for one not built yet."""
    if policy is ExecutionPolicy.MARKET:
        return MarketPolicy()
    if policy is ExecutionPolicy.SMART:
        return SmartPolicy()
    if policy is ExecutionPolicy.ANCHOR:
        return AnchorPolicy()
    raise UnsupportedPolicyError(f"execution policy {policy.value!r} is not implemented yet")
