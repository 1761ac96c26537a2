"""The §4.10 checker fed by a real simulator's records: an over-fill and a left-over order,
placed through the real alpaca-py client under a plan's client order ids, are caught.

This simulator is started here, not by the fixtures, so the automatic teardown check does not
fail the test on the violations it makes on purpose."""

from __future__ import annotations

from decimal import Decimal

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from alpaca_sim.testing import running_simulator
from rebalance_executor.bench.invariants import InvariantKind, check_execution, records_from_sim
from rebalance_executor.domain.plan import Action, PlanItem, RebalancePlan
from rebalance_executor.executor.ids import client_order_id, plan_key
from tests.fixtures.sim import TEST_START

KEY, SECRET = "CHECKERKEY01", "CHECKERSECRET01"


def test_checker_catches_overfill_and_live_order_in_simulator_records() -> None:
    with running_simulator(seed=3, start=TEST_START) as sim:
        sim.control.pause_clock()
        sim.control.freeze_market(True)
        sim.control.set_quote("SPY", Decimal("500.00"), Decimal("500.05"))
        plan = RebalancePlan(
            plan_id="checker-plan",
            timestamp=sim.clock.now(),
            items=(PlanItem(symbol="SPY", action=Action.BUY, trade_amount=Decimal(1000)),),
        )
        key = plan_key(plan.plan_id)
        client = TradingClient(KEY, SECRET, paper=True, url_override=sim.base_url)
        client.submit_order(
            MarketOrderRequest(
                symbol="SPY",
                qty=5,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                client_order_id=client_order_id(key, 0, 0),
            )
        )
        client.submit_order(
            LimitOrderRequest(
                symbol="SPY",
                qty=1,
                limit_price=400,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                client_order_id=client_order_id(key, 0, 1),
            )
        )
        sim.control.advance_time(2.0)

        records = records_from_sim(sim.control, KEY)
        found = check_execution(plan, None, records)

    kinds = sorted(v.kind for v in found)
    assert kinds == [InvariantKind.LIVE_ORDER, InvariantKind.OVERFILL]
    overfill = next(v for v in found if v.kind is InvariantKind.OVERFILL)
    assert "filled 5" in overfill.detail
