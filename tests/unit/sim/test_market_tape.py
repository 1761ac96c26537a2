"""The exogenous tape against its own stated statistics (README "The market"): taker rate and
size, the spread distribution, order-flow impact and the variance share from trades, touch
queues. Seeded; every tolerance is ``Z`` standard errors of the statistic measured."""

from __future__ import annotations

import itertools
import math
import statistics
from decimal import Decimal

import pytest

from alpaca_sim.classes import CLASS_DEFAULTS
from alpaca_sim.market import LIT_SHARE, QUEUE_REFILL_S, SPREAD_HOLD_S
from alpaca_sim.scenario import SymbolSpec
from tests.unit.sim.model import Z, proportion_error, spec, standard_error, tape

STEPS = 20_000
LIQUID = spec(price=200, **{"class": "liquid"})


def test_taker_arrivals_and_sizes_match_the_spec() -> None:
    _, flows = tape(LIQUID, STEPS)
    counts = [f.buy_count + f.sell_count for f in flows]
    # Poisson per step: mean trades_per_min / 60, variance the same
    expected = float(LIQUID.trades_per_min) / 60
    assert abs(statistics.fmean(counts) - expected) < Z * math.sqrt(expected / STEPS)
    buys = sum(f.buy_count for f in flows)
    assert abs(buys / sum(counts) - 0.5) < Z * proportion_error(0.5, sum(counts))
    # exponential sizes: the mean of n trades has standard error mean / sqrt(n)
    size = float(LIQUID.avg_trade_size)
    traded = sum(f.buy_volume + f.sell_volume for f in flows)
    assert abs(traded / sum(counts) - size) < Z * size / math.sqrt(sum(counts))


def test_thin_class_trades_a_few_times_a_minute() -> None:
    thin = spec(price=30, **{"class": "thin"})
    _, flows = tape(thin, STEPS)
    per_minute = sum(f.buy_count + f.sell_count for f in flows) / (STEPS / 60)
    expected = float(thin.trades_per_min)
    assert abs(per_minute - expected) < Z * math.sqrt(expected / (STEPS / 60))
    assert 3 <= expected <= 8  # the calibration's thin-ETF range


@pytest.mark.parametrize(("market_class", "price"), [("liquid", 200), ("multi_tick", 450)])
def test_spread_in_ticks_has_the_class_mean_and_one_tick_share(
    market_class: str, price: int
) -> None:
    symbol = spec(price=price, **{"class": market_class})
    market, _ = tape(symbol, STEPS)
    spreads = [int((q.ask - q.bid) / Decimal("0.01")) for q in market.history]
    assert min(spreads) >= 1
    mean = float(symbol.spread_ticks)
    # redrawn at rate 1/SPREAD_HOLD_S: an AR(1)-like series, effective sample n (1-r)/(1+r)
    r = math.exp(-1 / SPREAD_HOLD_S)
    n = len(spreads) * (1 - r) / (1 + r)
    # 1 + Poisson(mean - 1): variance mean - 1
    assert abs(statistics.fmean(spreads) - mean) < Z * math.sqrt((mean - 1) / n)
    one_tick = sum(1 for s in spreads if s == 1) / len(spreads)
    expected = math.exp(-(mean - 1))
    assert abs(one_tick - expected) < Z * proportion_error(expected, round(n))
    changes = sum(1 for a, b in itertools.pairwise(spreads) if a != b)
    assert changes < len(spreads) / SPREAD_HOLD_S  # spreads persist (a redraw may repeat)
    if market_class == "liquid":
        assert 0.90 <= one_tick <= 0.97  # calibration: one tick 90-97 % of the time


def test_quotes_sit_on_the_tick_grid_around_the_latent_price() -> None:
    market, _ = tape(spec(price="0.85", spread_bps=60, **{"class": "thin"}), 2_000)
    for quote in market.history:
        assert quote.bid == quote.bid.quantize(Decimal("0.0001"))
        assert quote.ask > quote.bid
    dollar, _ = tape(LIQUID, 2_000)
    latest = dollar.history[-1]
    assert latest.bid <= Decimal(repr(dollar.latent)) <= latest.ask


@pytest.mark.parametrize("market_class", ["liquid", "volatile", "thin"])
def test_mid_moves_linearly_in_order_flow_imbalance_with_the_trade_variance_share(
    market_class: str,
) -> None:
    symbol = spec(price=100, **{"class": market_class})
    market, flows = tape(symbol, STEPS)
    imbalance = [f.buy_volume - f.sell_volume for f in flows]
    returns = [math.log(f.end / f.start) for f in flows]
    slope, slope_error, share = _regression(imbalance, returns)
    assert abs(slope - market.impact_per_share) < Z * slope_error
    assert slope > 0  # buying pressure lifts the mid (Cont, Kukanov & Stoikov)
    expected = float(CLASS_DEFAULTS[symbol.market_class]["trade_impact_share"])
    # R^2 over n points: standard error about 2 sqrt(share) (1 - share) / sqrt(n)
    assert abs(share - expected) < Z * 2 * math.sqrt(expected) * (1 - expected) / math.sqrt(STEPS)


def _regression(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b x: the slope, its standard error and R^2 (floats: fast)."""
    n = len(xs)
    mean_x, mean_y = math.fsum(xs) / n, math.fsum(ys) / n
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    syy = math.fsum((y - mean_y) ** 2 for y in ys)
    slope = sxy / sxx
    residual = syy - slope * sxy
    return slope, math.sqrt(residual / (n - 2) / sxx), 1 - residual / syy


def test_a_touch_keeps_its_queue_while_its_price_stays() -> None:
    # a still latent price and one-tick spreads: the bid never moves
    still = spec(price=100, volatility=0, spread_ticks=1, depth=500, trades_per_min=300)
    market, flows = tape(still, 2_000)
    assert {q.bid for q in market.history} == {market.history[0].bid}
    refill = 1 - math.exp(-1 / QUEUE_REFILL_S)
    kept = 0
    for before, after, flow in zip(market.history, list(market.history)[1:], flows, strict=False):
        left = float(before.bid_size) - LIT_SHARE * flow.sell_volume
        if left > 0:  # (an emptied touch gets a fresh queue)
            kept += 1
            assert abs(float(after.bid_size) - (left + (500 - left) * refill)) <= 1.0
    assert kept > len(flows) / 2


def test_lit_takers_trade_through_a_mean_touch_in_the_stated_depletion_time() -> None:
    symbol: SymbolSpec = LIQUID
    _, flows = tape(symbol, STEPS)
    # seconds for the lit sellers to trade through `depth` shares, from every 50th step
    times = []
    for start in range(0, STEPS - 200, 50):
        traded, seconds = 0.0, 0
        while traded < float(symbol.depth):
            traded += LIT_SHARE * flows[start + seconds].sell_volume
            seconds += 1
        times.append(seconds)
    rate = LIT_SHARE * float(symbol.trades_per_min) / 120 * float(symbol.avg_trade_size)
    stated = float(symbol.depth) / rate
    # a first passage overshoots by at most one step
    assert (
        stated - Z * standard_error(times)
        < statistics.fmean(times)
        < stated + 1 + Z * (standard_error(times))
    )
    assert stated < 20  # calibration: large caps trade through the NBBO queue in < 20 s
