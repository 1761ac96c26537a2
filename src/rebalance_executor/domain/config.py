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
    """Tuning of the smart policy (SPEC §4.5); see docs/executor.md "smart".

    Phases on the working window: passive (a limit strictly inside the spread, laddered every
    ``repeg_interval_s``) while the live spread is at least ``min_passive_spread_bps``; then
    *take* (a limit ``cross_buffer_bps`` through the far touch, re-pegged when the quote moves
    away) from ``(max_repegs + 1) x interval`` or ``final_cross_fraction`` of the window; then
    *finish* (``finish_buffer_bps`` through, or a market order) from ``finish_fraction``. The
    effective interval is ``min(repeg_interval_s, final_cross_fraction x window / (max_repegs +
    1))``, so the ladder compresses to short windows (deadline wind-down, SPEC §4.7).

    Defaults: chosen by the paired sweeps on the discrete-event bench clock, tuning seeds
    1000-1009 over the 8 shipped scenarios (rounds 8-12, docs/bench/sweep_round*.json; table
    and reasoning in docs/executor.md): passive one tick inside on every spread (gate 0), left
    as soon as the mid has moved 2 arrival spreads (either way), quotes re-checked every 15 s
    while a limit rests; re-peg every 20 s, 2 re-pegs, take AT the far touch, finish 10 bps
    through from 0.9 of the window.

    Raises pydantic ValidationError when ``finish_fraction < final_cross_fraction``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Position inside the spread as a fraction from the near touch (0) to the far touch (1);
    # the price is always at least one tick better than the near touch (print priority).
    start_aggressiveness: Decimal = Field(default=Decimal("0"), ge=0, le=1)
    step_aggressiveness: Decimal = Field(default=Decimal("0"), ge=0, le=1)
    repeg_interval_s: float = Field(default=20.0, gt=0)
    max_repegs: int = Field(default=2, ge=0)
    # Fraction of the trading window after which the remainder is taken regardless.
    final_cross_fraction: Decimal = Field(default=Decimal("0.8"), gt=0, le=1)
    # The take limit sits this far through the far touch (0 = at it: no walking the book).
    cross_buffer_bps: Decimal = Field(default=Decimal("0"), ge=0, le=500)
    # Take with a plain market order instead of a collar-bounded limit (and finish likewise).
    cross_with_market: bool = False
    # Live spreads narrower than this are taken at once: passive orders there are delayed
    # market orders that lose the gap overshoot (docs/executor.md).
    min_passive_spread_bps: Decimal = Field(default=Decimal("0"), ge=0)
    # Fraction of the window after which the remainder is finished through the book.
    finish_fraction: Decimal = Field(default=Decimal("0.9"), gt=0, le=1)
    finish_buffer_bps: Decimal = Field(default=Decimal("10"), ge=0, le=500)
    # Longest wait between quote checks while an order rests that a quote move could obsolete.
    recheck_s: float = Field(default=15.0, gt=0)
    # Leave the passive phase once the mid has moved this many arrival spreads from the arrival
    # mid (either way): a market moving faster than its spread fills resting orders at stale
    # prices and drifts away from the others (0 = never).
    take_on_move_spreads: Decimal = Field(default=Decimal("2"), ge=0)

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
