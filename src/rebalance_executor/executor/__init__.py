"""The async executor: plan + deadline + broker port -> ExecutionResult (SPEC §4)."""

from rebalance_executor.executor.api import EarlyStop, KillSwitch, execute_plan
from rebalance_executor.executor.policies import UnsupportedPolicyError

__all__ = ["EarlyStop", "KillSwitch", "UnsupportedPolicyError", "execute_plan"]
