"""The ``market`` policy: one market order for the remainder, as soon as possible."""

from __future__ import annotations

from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.executor.policies.base import MARKET, Desired, PolicyInput


class MarketPolicy:
    """Always a market order; needs no live quotes while working."""

    name = "market"
    uses_live_quotes = False

    def decide(self, state: PolicyInput, config: ExecutionConfig) -> Desired:
        return MARKET
