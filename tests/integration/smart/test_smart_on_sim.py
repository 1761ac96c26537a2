"""The smart policy through the real alpaca-py client against the simulator (SPEC §4.5, §4.7, §8).

Simulated time runs faster than real time (``time_scale``); all assertions are on prices,
quantities and statuses, never on timing. The executor reads the ``sip`` feed here: these tests
are about working orders against the NBBO they fill on (the iex feed has its own tests).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import OrderStatus
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ItemOutcome, Reason
from tests.fixtures.sim import SimFactory
from tests.integration.executor.harness import Harness, item
from tests.integration.smart.markets import run_with_budget, scenario, spec

SMART = ExecutionConfig(policy=ExecutionPolicy.SMART)
BPS = Decimal(10_000)


def test_quiet_market_fills_inside_the_spread(sim_factory: SimFactory) -> None:
    # 30 bps: wide enough for the spread gate (SMART_MIN_PASSIVE_SPREAD_BPS) to work it passively
    quiet = spec("100.00", spread_bps="30")
    sim = sim_factory(seed=7, time_scale=20.0, scenario=scenario(QUIET=quiet))
    h = Harness.start(sim, feed="sip")
    h.account("100000")
    arrival = sim.control.quote("QUIET")
    result = h.run(h.plan(item("QUIET", Action.BUY, "20000")), SMART, window_s=300.0)

    [got] = result.items
    assert got.outcome is ItemOutcome.FILLED, got.reason_detail
    assert got.avg_fill_price is not None
    assert got.avg_fill_price < arrival.ask  # better than crossing at the far touch
    assert got.slippage_bps is not None
    assert got.slippage_bps < (arrival.ask - arrival.mid) / arrival.mid * BPS
    maker = [f for f in sim.control.fills(h.key) if f.liquidity == "maker"]
    assert maker, "expected passive fills inside the spread"
    assert got.quote_path  # the quotes its decisions were made on
    assert got.orders_count >= 1
    assert got.time_to_complete_s is not None
    assert result.tca is not None
    assert result.tca.policy == "smart"
    assert result.tca.slippage_bps == got.slippage_bps
    assert all(o["status"] in {"filled", "canceled", "replaced"} for o in h.orders())


def test_runaway_market_stops_at_the_collar(sim_factory: SimFactory) -> None:
    # ~+2.5% per simulated minute: the market leaves a 40 bps collar within seconds; 30 bps
    # spread so the spread gate works it passively (a tight one is taken at once, before it runs)
    runaway = spec(
        "100.00", spread_bps="30", volatility="0.05", drift="3000", trade_rate_per_min="0"
    )
    sim = sim_factory(seed=3, time_scale=20.0, scenario=scenario(RUN=runaway))
    h = Harness.start(sim, feed="sip")
    h.account("100000")
    config = SMART.model_copy(update={"max_collar_bps": Decimal(40)})
    result = h.run(h.plan(item("RUN", Action.BUY, "10000")), config, window_s=300.0)

    [got] = result.items
    assert got.reason is Reason.COLLAR, (got.outcome, got.reason, got.reason_detail)
    assert got.outcome is not ItemOutcome.FILLED
    assert got.arrival_mid is not None
    bound = got.arrival_mid * (1 + Decimal(40) / BPS)
    for order in h.orders():
        assert order["status"] in {"filled", "canceled", "replaced"}
        assert order["limit_price"] is None or Decimal(order["limit_price"]) <= bound
    assert h.filled("RUN", "buy")[0] <= got.planned_qty


@pytest.mark.parametrize(
    ("budget_s", "time_scale"),
    [(20.0, 5.0), (120.0, 20.0), (900.0, 100.0)],
)
def test_any_budget_leaves_nothing_live_and_marks_deadline(
    sim_factory: SimFactory, budget_s: float, time_scale: float
) -> None:
    market = scenario(
        AAA=spec("50.00"),
        BBB=spec("120.00", fractionable=False),
        HALT=spec("80.00"),
    )
    sim = sim_factory(seed=11, time_scale=time_scale, scenario=market)
    h = Harness.start(sim, feed="sip")
    h.account("50000", {"AAA": "100", "HALT": "100"})
    sim.control.halt("HALT")  # its sell rests, never fills, and its quote goes stale
    plan = h.plan(
        item("AAA", Action.SELL, "-2000"),
        item("BBB", Action.BUY, "3000"),
        item("HALT", Action.SELL, "-2000"),
    )
    reserve = min(8.0, budget_s * 0.3)
    # At time_scale 100 the halted quote ages ~10 simulated seconds per 0.1 real second of setup;
    # the quote-age guard is not under test here, the wind-down is.
    config = SMART.model_copy(update={"quote_max_age_s": budget_s / 5})
    result = run_with_budget(h, plan, config, budget_s=budget_s, reserve_s=reserve)

    assert all(o["status"] in {"filled", "canceled", "replaced"} for o in h.orders())
    assert result.budget is not None
    assert result.budget.total_s <= Decimal(str(budget_s))
    by_symbol = {i.symbol: i for i in result.items}
    assert by_symbol["HALT"].reason is Reason.DEADLINE
    assert by_symbol["HALT"].filled_qty == 0
    for got in result.items:
        qty, _ = h.filled(got.symbol, "buy" if got.action is Action.BUY else "sell")
        assert qty == got.filled_qty  # broker-reported fills, counted once
        assert qty <= got.planned_qty
        if got.outcome is not ItemOutcome.FILLED:
            assert got.reason is not None
    statuses = {o.status for i in result.items for o in i.orders}
    assert statuses <= {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REPLACED}


def _bars_requests(sim_factory: SimFactory, config: ExecutionConfig) -> int:
    """Bars requests the simulator counted for a plan that sells BBB and buys AAA."""
    market = scenario(AAA=spec("100.00", spread_bps="30"), BBB=spec("50.00", spread_bps="30"))
    sim = sim_factory(seed=11, time_scale=20.0, scenario=market)
    h = Harness.start(sim, feed="sip")
    h.account("100000", positions={"BBB": "100"})
    plan = h.plan(item("AAA", Action.BUY, "2000"), item("BBB", Action.SELL, "-2000"))
    result = h.run(plan, config, window_s=300.0)
    assert {i.outcome for i in result.items} == {ItemOutcome.FILLED}
    return sim.control.request_counts().get("GET /v2/stocks/bars", 0)


def test_smart_reads_recent_bars_once_per_plan(sim_factory: SimFactory) -> None:
    """SPEC §4.5/§8: the policy may read recent bars before trading: one multi-symbol request
    for the whole plan (its sells and its buys), on the simulator's request counter."""
    assert _bars_requests(sim_factory, SMART) == 1


def test_market_reads_no_bars(sim_factory: SimFactory) -> None:
    assert _bars_requests(sim_factory, ExecutionConfig(policy=ExecutionPolicy.MARKET)) == 0
