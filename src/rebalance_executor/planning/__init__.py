"""Planning from target weights (SPEC §4.9): a scheduled allocation becomes a normal plan."""

from rebalance_executor.planning.model import (
    InvalidAllocationError,
    PlanningError,
    PlanningSkip,
    SkipCode,
)
from rebalance_executor.planning.outcome import own_order_prefix, resolve_plan, skipped_result
from rebalance_executor.planning.planner import build_plan
from rebalance_executor.planning.targets import Exposure, compute_items

__all__ = [
    "Exposure",
    "InvalidAllocationError",
    "PlanningError",
    "PlanningSkip",
    "SkipCode",
    "build_plan",
    "compute_items",
    "own_order_prefix",
    "resolve_plan",
    "skipped_result",
]
