"""Execution limits and tuning the executor reads (a frozen subset of the settings, SPEC §3.4).

``rebalance_executor.settings.Settings`` loads these from the environment; the domain only ever
sees this model, so tests and the benchmark can build one directly.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ExecutionPolicy(StrEnum):
    SMART = "smart"
    ANCHOR = "anchor"
    MARKET = "market"


class SmartSchedule(BaseModel):
    """Tuning of the smart policy (SPEC §4.5).

    Defaults chosen by the benchmark sweep on tuning seeds 1000-1011 (README "Benchmark",
    docs/bench/sweep_round*.json): 10% of the spread in from the near touch (rounded passively,
    so on a spread under 10 ticks it joins the touch), re-pegged to the live quote every 20 s,
    marketable after 60 s. The schedule compresses to the phase's working window: the
    effective re-peg interval is ``min(repeg_interval_s, final_cross_fraction x window /
    (max_repegs + 1))``, so the whole passive ladder fits before the final cross.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Position inside the spread as a fraction from the near touch (0) to the far touch (1).
    start_aggressiveness: Decimal = Field(default=Decimal("0.1"), ge=0, le=1)
    step_aggressiveness: Decimal = Field(default=Decimal("0"), ge=0, le=1)
    repeg_interval_s: float = Field(default=20.0, gt=0)
    max_repegs: int = Field(default=2, ge=0)
    # Fraction of the trading window after which the remainder goes marketable regardless.
    final_cross_fraction: Decimal = Field(default=Decimal("0.8"), gt=0, le=1)
    # The final marketable limit sits this far through the far touch (still collar-bounded).
    cross_buffer_bps: Decimal = Field(default=Decimal("10"), ge=0, le=500)
    # Finish with a plain market order instead of a collar-bounded marketable limit.
    cross_with_market: bool = False


class ExecutionConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: ExecutionPolicy = ExecutionPolicy.SMART
    smart: SmartSchedule = SmartSchedule()
    dry_run: bool = False
    kill_switch: bool = False
    max_order_notional: Decimal | None = Field(default=None, gt=0)
    max_plan_notional: Decimal | None = Field(default=None, gt=0)
    max_plan_equity_fraction: Decimal | None = Field(default=None, gt=0, le=1)
    cash_reserve: Decimal = Field(default=Decimal(0), ge=0)
    min_order_notional: Decimal = Field(default=Decimal(1), ge=0)
    quote_max_age_s: float = Field(default=10.0, gt=0)
    max_spread_bps: Decimal = Field(default=Decimal(100), gt=0)
    max_collar_bps: Decimal = Field(default=Decimal(150), gt=0)
    poll_interval_s: float = Field(default=1.0, gt=0)
    # Fill detection: each orders listing doubles the interval to the next one up to this cap;
    # a listing that leaves a cancel, submit or marketable order unsettled starts it over.
    # Saves requests while limits rest (SPEC §8: requests per order); 8 s chosen by a 4/8/16
    # sweep on tuning seeds 1000-1019 (docs/executor.md "Polling").
    max_poll_interval_s: float = Field(default=8.0, gt=0)
    # Cap on the sell phase when buys follow (it also takes at most half the remaining window).
    sell_wait_max_s: float = Field(default=300.0, gt=0)
