"""Execution limits and tuning the executor reads (a frozen subset of the settings, SPEC §3.4).

``rebalance_executor.settings.Settings`` loads these from the environment; the domain only ever
sees this model, so tests and the benchmark can build one directly.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ExecutionPolicy(StrEnum):
    SMART = "smart"
    ANCHOR = "anchor"
    MARKET = "market"


class SmartSchedule(BaseModel):
    """Tuning of the smart policy (SPEC §4.5); see docs/executor.md "The smart policy".

    Phases on the working window: *passive* (join the near touch, or improve it by one tick,
    re-pegged when the touch leaves the order and laddered every ``repeg_interval_s``) unless a
    take-at-once rule fires; then *take* (a limit ``cross_buffer_bps`` through the far touch,
    re-pegged when the quote moves away) from ``(max_repegs + 1) x interval`` or
    ``final_cross_fraction`` of the window; then *finish* (``finish_buffer_bps`` through, or a
    market order) from ``finish_fraction``. The effective interval is ``min(repeg_interval_s,
    final_cross_fraction x window / (max_repegs + 1))``, so the ladder compresses to short
    windows (deadline wind-down, SPEC §4.7).

    Defaults: docs/executor.md "Why these defaults" (tuning seeds only).

    Raises pydantic ValidationError when ``finish_fraction < final_cross_fraction``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # How far an improving order goes inside the spread, as a fraction from the near touch (0)
    # to the far touch (1), at least one tick; ``step`` is added per re-peg level (a level with
    # a step always improves; without, ``join_max_wait_s`` may join the touch instead).
    start_aggressiveness: Decimal = Field(default=Decimal("0"), ge=0, le=1)
    step_aggressiveness: Decimal = Field(default=Decimal("0"), ge=0, le=1)
    repeg_interval_s: float = Field(default=40.0, gt=0)
    max_repegs: int = Field(default=2, ge=0)
    # Fraction of the trading window after which the remainder is taken regardless.
    final_cross_fraction: Decimal = Field(default=Decimal("0.8"), gt=0, le=1)
    # The take limit sits this far through the far touch (0 = at it: no walking the book).
    cross_buffer_bps: Decimal = Field(default=Decimal("0"), ge=0, le=500)
    # Take with a plain market order instead of a collar-bounded limit (and finish likewise).
    cross_with_market: bool = False
    # Live spreads narrower than this are taken at once (0 = every spread is worked).
    min_passive_spread_bps: Decimal = Field(default=Decimal("0"), ge=0)
    # Fraction of the window after which the remainder is finished through the book.
    finish_fraction: Decimal = Field(default=Decimal("0.9"), gt=0, le=1)
    finish_buffer_bps: Decimal = Field(default=Decimal("10"), ge=0, le=500)
    # Longest wait between quote checks while an order rests that a quote move could obsolete.
    recheck_s: float = Field(default=30.0, gt=0)
    # Leave the passive phase once the mid has moved this many arrival spreads from the arrival
    # mid (either way): a market moving faster than its spread (0 = never).
    take_on_move_spreads: Decimal = Field(default=Decimal("0"), ge=0)
    # On a spread of two ticks or more, join the near touch when the displayed queue there plus
    # the order would trade within this many seconds at the recent volume rate (bars), else
    # improve the touch by one tick (0 = always improve; a one-tick spread always joins).
    join_max_wait_s: float = Field(default=5.0, ge=0)
    # ... and only on spreads at most this many ticks wide (improving a wide spread costs a
    # small share of it; a narrow one half).
    join_max_spread_ticks: int = Field(default=2, ge=1)
    # A resting passive order is re-pegged when the price the policy would now choose is more
    # than this fraction of the live spread away from it (either way); within it, it keeps its
    # place in the queue (a one-tick move always exceeds 0.5 of a one-tick spread).
    repeg_move_spreads: Decimal = Field(default=Decimal("0.5"), ge=0)
    # Minutes of 1-minute bars read before each phase (one request) for the trend, volatility
    # and volume rules (0 = none read; those rules are then off).
    bars_minutes: int = Field(default=30, ge=0, le=390)
    # The trend counts only beyond this many standard errors from zero.
    trend_z: Decimal = Field(default=Decimal("1"), ge=0)
    # Take at once when the significant trend against the trade, over the expected wait for a
    # passive fill (at most the passive phase still ahead), is at least this many half-spreads
    # (0 = never).
    take_on_trend_halfspreads: Decimal = Field(default=Decimal("1"), ge=0)
    # Take at once when one standard deviation of the price over the passive phase still ahead
    # is at least this many spreads (0 = never).
    take_on_volatility_spreads: Decimal = Field(default=Decimal("0"), ge=0)

    @model_validator(mode="after")
    def _finish_after_cross(self) -> Self:
        if self.finish_fraction < self.final_cross_fraction:
            raise ValueError("finish_fraction must be >= final_cross_fraction")
        return self


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
    # Buys may borrow (spend margin ``buying_power``) only when this is set (SPEC §4.4).
    allow_margin: bool = False
    min_order_notional: Decimal = Field(default=Decimal(1), ge=0)
    quote_max_age_s: float = Field(default=10.0, gt=0)
    max_spread_bps: Decimal = Field(default=Decimal(100), gt=0)
    max_collar_bps: Decimal = Field(default=Decimal(150), gt=0)
    poll_interval_s: float = Field(default=1.0, gt=0)
    # Fill detection: each orders listing doubles the interval to the next one up to this cap;
    # a listing that leaves a cancel, submit or marketable order unsettled starts it over.
    # Saves requests while limits rest (SPEC §8: requests per order); 8 s chosen by a 4/8/16
    # sweep on tuning seeds 1000-1019 (docs/executor.md "Polling").
    max_poll_interval_s: float = Field(default=16.0, gt=0)
    # Cap on the sell phase when buys follow (it also takes at most half the remaining window).
    sell_wait_max_s: float = Field(default=300.0, gt=0)
    # Streams (docs/executor.md "Streams"): an item awaiting news (a submit or cancel to settle,
    # a marketable order) that heard nothing of its orders for STREAM_LAG_S, or an update whose
    # broker time is that old, is confirmed by a listing; a symbol with no stream quote for
    # STREAM_SILENCE_S is polled over REST when it must decide.
    stream_lag_s: float = Field(default=2.0, gt=0)
    stream_silence_s: float = Field(default=10.0, gt=0)
