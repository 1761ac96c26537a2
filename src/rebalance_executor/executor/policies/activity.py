"""What a symbol's recent 1-minute bars say about waiting (SPEC §4.5: the policy may read what
Alpaca serves before trading).

From the bars of the last few minutes on the configured feed (one multi-symbol request per
phase, read by the executor): the close-to-close volatility per √minute, the trend per minute
with its standard error, and the traded volume per minute. Pure functions over ``Decimal``;
bps are of the price.

Estimators, chosen for bars with gaps (a minute without trades has no bar, as on Alpaca):
- volatility: ``sigma^2 = mean(r_i^2 / g_i)`` over consecutive bars, ``r_i`` the close-to-close
  return in bps and ``g_i`` the minutes between them (a random walk's variance grows with time;
  not demeaned: over a few minutes the drift is small against sigma, and demeaning would cost a
  degree of freedom out of a handful);
- trend: ``(last close - first close) / first close / span`` bps per minute, standard error
  ``sigma / sqrt(span)`` (the drift of a random walk seen over ``span`` minutes);
- volume: total volume over the minutes the bars cover (first bar's start to last bar's end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Final

from rebalance_executor.domain.broker import Bar, Side

BPS: Final = Decimal(10_000)
_SECONDS_PER_MINUTE: Final = Decimal(60)
# Fewer bars than this say nothing usable about volatility or trend.
MIN_BARS: Final = 3


@dataclass(frozen=True)
class Activity:
    """Recent behaviour of one symbol, from ``bars`` 1-minute bars spanning ``span_min``."""

    bars: int
    span_min: Decimal
    volatility_bps: Decimal  # per √minute
    trend_bps: Decimal  # per minute, signed (> 0: rising)
    trend_se_bps: Decimal  # standard error of trend_bps
    volume_per_min: Decimal  # shares per minute on the feed the bars came from

    def adverse_trend_bps(self, side: Side, z: Decimal) -> Decimal:
        """The part of the trend against ``side`` (rising for a buy, falling for a sell) that
        is more than ``z`` standard errors from zero, in bps per minute; 0 when none is."""
        against = self.trend_bps if side is Side.BUY else -self.trend_bps
        return max(Decimal(0), against - z * self.trend_se_bps)

    def move_bps(self, seconds: float) -> Decimal:
        """One standard deviation of the price over ``seconds``, in bps."""
        minutes = Decimal(str(max(0.0, seconds))) / _SECONDS_PER_MINUTE
        return self.volatility_bps * minutes.sqrt()

    def volume_per_s(self) -> Decimal:
        return self.volume_per_min / _SECONDS_PER_MINUTE


def activity_from_bars(bars: Sequence[Bar]) -> Activity | None:
    """The activity the bars (oldest first, one symbol) show; None with fewer than
    :data:`MIN_BARS` bars or a non-positive close."""
    if len(bars) < MIN_BARS or any(b.close <= 0 for b in bars):
        return None
    squares = Decimal(0)
    for before, after in pairwise(bars):
        gap = _minutes(before, after)
        ret = (after.close - before.close) / before.close * BPS
        squares += ret * ret / gap
    volatility = (squares / (len(bars) - 1)).sqrt()
    span = _minutes(bars[0], bars[-1])
    first, last = bars[0].close, bars[-1].close
    trend = (last - first) / first * BPS / span
    volume = sum((b.volume for b in bars), Decimal(0))
    return Activity(
        bars=len(bars),
        span_min=span,
        volatility_bps=volatility,
        trend_bps=trend,
        trend_se_bps=volatility / span.sqrt(),
        volume_per_min=volume / (span + 1),  # the bars cover span + 1 minutes
    )


def _minutes(before: Bar, after: Bar) -> Decimal:
    """Whole minutes between two bars' starts (at least 1: bars of one symbol are distinct)."""
    seconds = Decimal(str((after.timestamp - before.timestamp).total_seconds()))
    return max(Decimal(1), (seconds / _SECONDS_PER_MINUTE).to_integral_value())
