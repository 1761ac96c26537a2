"""What recent 1-minute bars say about a symbol: volatility, trend and its standard error,
volume (``policies/activity.py``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import Bar, Side
from rebalance_executor.executor.policies.activity import Activity, activity_from_bars
from tests.unit.policies.inputs import NOW

D = Decimal


def bars(closes: list[str], minutes: list[int] | None = None, volume: str = "600") -> list[Bar]:
    """Bars closing at ``closes``, starting ``minutes`` (default 0, 1, 2, ...) after NOW."""
    starts = minutes if minutes is not None else list(range(len(closes)))
    return [
        Bar(
            symbol="SPY",
            timestamp=NOW + timedelta(minutes=m),
            open=D(c),
            high=D(c),
            low=D(c),
            close=D(c),
            volume=D(volume),
        )
        for c, m in zip(closes, starts, strict=True)
    ]


def test_too_few_bars_say_nothing() -> None:
    assert activity_from_bars([]) is None
    assert activity_from_bars(bars(["100", "101"])) is None
    assert activity_from_bars(bars(["100", "0", "101"])) is None


def test_a_steady_rise_is_a_trend_with_the_volatility_of_its_steps() -> None:
    got = activity_from_bars(bars(["100.00", "100.10", "100.20", "100.30", "100.40"]))
    assert got is not None
    assert got.bars == 5
    assert got.span_min == 4
    # 10c on ~$100 each minute: ~10 bps per step, (40c / $100) / 4 min = 10 bps per minute
    assert float(got.trend_bps) == pytest.approx(10.0)
    assert float(got.volatility_bps) == pytest.approx(9.97, abs=0.02)
    assert float(got.trend_se_bps) == pytest.approx(float(got.volatility_bps) / 2)
    assert got.volume_per_min == D(600)  # 5 bars of 600 over the 5 minutes they cover
    assert got.volume_per_s() == D(10)


def test_gaps_between_bars_scale_the_variance_and_the_span() -> None:
    # a 20 bps move over a 4-minute gap is a 10 bps/sqrt(min) step, like 10 bps in one minute
    got = activity_from_bars(bars(["100.00", "100.10", "100.30"], minutes=[0, 1, 5]))
    assert got is not None
    assert got.span_min == 5
    assert float(got.volatility_bps) == pytest.approx(10.0, abs=0.1)
    assert float(got.trend_bps) == pytest.approx(6.0)
    assert got.volume_per_min == D(300)  # 1,800 shares over 6 minutes


def test_noise_without_trend_has_no_adverse_trend_beyond_its_error() -> None:
    got = activity_from_bars(bars(["100.00", "100.10", "99.90", "100.10", "100.00"]))
    assert got is not None
    assert got.trend_bps == 0
    assert got.adverse_trend_bps(Side.BUY, D(0)) == 0
    assert got.adverse_trend_bps(Side.SELL, D(0)) == 0


def make(trend: str, se: str = "1", vol: str = "6") -> Activity:
    return Activity(
        bars=30,
        span_min=D(29),
        volatility_bps=D(vol),
        trend_bps=D(trend),
        trend_se_bps=D(se),
        volume_per_min=D(6000),
    )


@pytest.mark.parametrize(
    ("trend", "side", "z", "expected"),
    [
        ("3", Side.BUY, "0", "3"),  # rising: against a buy
        ("3", Side.BUY, "1", "2"),  # only what lies beyond one standard error counts
        ("3", Side.BUY, "4", "0"),  # not significant at 4 standard errors
        ("3", Side.SELL, "0", "0"),  # rising helps a sell
        ("-3", Side.SELL, "1", "2"),  # falling: against a sell
        ("-3", Side.BUY, "0", "0"),
    ],
)
def test_adverse_trend_is_the_significant_part_against_the_side(
    trend: str, side: Side, z: str, expected: str
) -> None:
    assert make(trend).adverse_trend_bps(side, D(z)) == D(expected)


def test_a_move_over_time_grows_with_the_square_root() -> None:
    activity = make("0", vol="6")
    assert activity.move_bps(60.0) == D(6)
    assert activity.move_bps(240.0) == D(12)
    assert activity.move_bps(-1.0) == 0
