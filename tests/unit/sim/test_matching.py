"""Our orders against the tape (README "Fill model"): exogeneity, queue position (join vs
improve), adverse selection, Brownian-bridge step invariance, the private impact overlay.
Seeded; statistical tolerances are ``Z`` standard errors of the statistic measured."""

from __future__ import annotations

import math
import statistics
from decimal import Decimal

from alpaca_sim.fills import FLOW, PATH
from tests.unit.sim.model import Session, Z, proportion_error, spec, standard_error

CENT = Decimal("0.01")
LIQUID = spec(price=200, **{"class": "liquid"})
# a still latent price (no news, no trade impact) with a wide spread: only takers fill
STILL_WIDE = spec(price=100, volatility=0, spread_ticks=6, depth=400, trades_per_min=120)


def _busy_session(seed: int, trade: bool) -> Session:
    session = Session.start(LIQUID, seed)
    for second in range(120):
        if trade and second % 10 == 0:
            session.submit("buy", Decimal(2000))  # walks the book, leaves an impact overlay
            session.submit("sell", Decimal(50), session.quote.ask)
            session.submit("buy", Decimal(50), session.quote.bid)
        session.run(1)
    return session


def test_quotes_and_tape_are_the_same_whatever_our_orders_do() -> None:
    traded = _busy_session(5, trade=True)
    idle = _busy_session(5, trade=False)
    assert traded.engine.fills, "the orders did trade"
    assert {f.trigger for f in traded.engine.fills} >= {"taker"}
    assert traded.quote_path() == idle.quote_path()
    assert _takers(traded) == _takers(idle)


def _takers(session: Session) -> list[tuple[object, ...]]:
    return [
        (f.step, f.buy_count, f.buy_volume, f.sell_count, f.sell_volume, f.start, f.end)
        for f in session.engine.markets["X"].tape
    ]


def test_improving_fills_sooner_than_joining_which_waits_for_the_queue() -> None:
    horizon = 600.0
    differences = []
    for seed in range(300):
        opening = Session.start(STILL_WIDE, seed).quote
        if opening.ask - opening.bid < 2 * CENT:
            continue  # a one-tick spread cannot be improved
        waits = []
        for improve in (False, True):
            session = Session.start(STILL_WIDE, seed)  # the same tape for both
            quote = session.quote
            order = session.submit("buy", Decimal(100), quote.bid + (CENT if improve else 0))
            waited = session.run_until_filled(order, horizon)
            assert {f.trigger for f in session.engine.fills} <= {FLOW}  # nothing else moves
            waits.append(horizon if waited is None else waited)  # censored at the horizon
        differences.append(waits[0] - waits[1])
    # joining puts the displayed queue ahead; improving puts nothing ahead
    assert statistics.fmean(differences) > Z * standard_error(differences)


def test_a_joined_order_waits_longer_behind_a_longer_queue() -> None:
    # a still price and one-tick spreads: the bid never moves, only takers fill
    still = spec(price=100, volatility=0, spread_ticks=1, depth=400, trades_per_min=120)
    aheads, waits = [], []
    for seed in range(80):
        session = Session.start(still, seed)
        order = session.submit("buy", Decimal(1), session.quote.bid)
        assert order.queue_ahead == float(session.quote.bid_size)  # the displayed size
        waited = session.run_until_filled(order, 3600)
        assert waited is not None
        assert [f.trigger for f in session.engine.fills] == [FLOW]
        assert order.queue_ahead == 0
        aheads.append(float(session.engine.markets["X"].history[0].bid_size))
        waits.append(waited)
    correlation = statistics.correlation(aheads, waits)
    assert correlation > Z / math.sqrt(len(waits))  # significant at Z standard errors


def test_takers_that_fill_a_resting_buy_push_the_mid_down() -> None:
    # price moves come from takers only, and a 4-tick spread leaves room for flow fills
    flow_driven = spec(price=100, spread_ticks=4, trade_impact_share=1)
    moves = []
    for seed in range(2000):
        session = Session.start(flow_driven, seed)
        order = session.submit("buy", Decimal(100), session.quote.bid)
        for _ in range(60):
            before = session.quote.mid
            session.run(1)
            if not order.is_open:
                break
        fills = session.engine.fills
        if not fills or fills[-1].trigger != FLOW:
            continue
        moves.append(float(session.quote.mid - before))
    assert len(moves) > 500
    # adverse selection: the sellers that reach the order also move the price down over the
    # step that fills it (an unconditional step moves the mid by zero on average)
    assert statistics.fmean(moves) < -Z * standard_error(moves)


def _fill_share(step_s: float, trials: int) -> float:
    filled = 0
    for seed in range(trials):
        session = Session.start(LIQUID, seed, step_s=step_s)
        limit = session.quote.bid - 10 * CENT  # ten ticks below: only the path reaches it
        order = session.submit("buy", Decimal(1), limit)
        if session.run_until_filled(order, 30) is not None:
            filled += 1
            assert session.engine.fills[-1].trigger in (FLOW, PATH)
    return filled / trials


def test_a_resting_orders_fill_chance_does_not_depend_on_the_step() -> None:
    trials = 300
    coarse, fine = _fill_share(1.0, trials), _fill_share(0.25, trials)
    pooled = (coarse + fine) / 2
    assert 0.1 < pooled < 0.9  # a question the test can answer
    assert abs(coarse - fine) < Z * math.sqrt(2) * proportion_error(pooled, trials)


def test_our_impact_moves_our_later_fills_but_never_the_served_quotes() -> None:
    thin = spec(price=30, **{"class": "thin"})
    big, small = Decimal(12_000), Decimal(100)
    prices = []
    paths = []
    for first in (True, False):
        session = Session.start(thin, 3)
        session.engine.frozen = True  # the same touch for both runs
        if first:
            session.submit("buy", big)
        session.run(2)
        session.submit("buy", small)
        prices.append(session.engine.fills[-1].price)
        paths.append(session.quote_path())
    after_impact, without = prices
    assert after_impact > without  # the overlay lifts the book our second buy walks
    assert paths[0] == paths[1]
