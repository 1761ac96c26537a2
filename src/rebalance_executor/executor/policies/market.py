"""The ``market`` policy: one market order for the remainder, as soon as possible."""

from __future__ import annotations

from rebalance_executor.domain.broker import OrderType, Quote
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.executor.policies.base import MARKET, Desired, PolicyInput


class MarketPolicy:
    """Always a market order; needs no live quotes while working."""

    name = "market"
    uses_live_quotes = False

    def recent_bars_minutes(self, config: ExecutionConfig, quote: Quote | None) -> int:
        return 0

    def decide(self, state: PolicyInput, config: ExecutionConfig) -> Desired:
        return MARKET

    def next_decision_s(self, state: PolicyInput, config: ExecutionConfig) -> float | None:
        """Decide now while no market order is live (an adopted limit is replaced by one);
        a live market order needs nothing until it fills or is cancelled."""
        live = state.live_order
        return None if live is not None and live.type is OrderType.MARKET else 0.0
