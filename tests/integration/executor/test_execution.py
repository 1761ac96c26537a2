"""issue 4 "Done when": the executor + real alpaca-py + the simulator, market policy."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from rebalance_executor.domain.broker import BrokerOrder, OrderRequest
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ExecutionStatus, ItemOutcome, Reason
from rebalance_executor.executor.ids import plan_key
from tests.fixtures.sim import SimFactory
from tests.integration.executor.harness import MARKET, Harness, item


@pytest.fixture
def h(sim_factory: SimFactory) -> Harness:
    return Harness.start(sim_factory(seed=7, time_scale=20))


def ts(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def within(actual: Decimal, expected: Decimal, price: Decimal) -> bool:
    """§3.3 tolerance: max($1, 0.5% of the notional), plus one whole share's worth for rounding."""
    tolerance = max(Decimal(1), expected * price * Decimal("0.005")) + price
    return abs(actual - expected) * price <= tolerance


def test_mixed_plan_reaches_targets_and_no_buy_precedes_a_live_sell(h: Harness) -> None:
    h.account("20000", {"SPY": "10", "TLT": "50.5", "BND": "30"})
    start_mid = {s: h.sim.control.quote(s).mid for s in ("SPY", "QQQ", "NOFR", "AAPL")}
    plan = h.plan(
        item("TLT", Action.SELL, "-4646", "0"),
        item("SPY", Action.SELL, "-2000", "0.3"),
        item("QQQ", Action.BUY, "5000"),
        item("NOFR", Action.BUY, "1000"),
        item("AAPL", Action.BUY, "3000"),
        item("BND", Action.HOLD, "0"),
    )
    result = h.run(plan)
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason
    pos = h.positions()
    assert "TLT" not in pos  # liquidated to exactly zero, fractional 0.5 included
    assert within(pos["SPY"], Decimal(10) - 2000 / start_mid["SPY"], start_mid["SPY"])
    assert within(pos["QQQ"], 5000 / start_mid["QQQ"], start_mid["QQQ"])
    assert pos["NOFR"] == pos["NOFR"].to_integral_value()  # whole shares only
    assert within(pos["NOFR"], Decimal(1000) / start_mid["NOFR"], start_mid["NOFR"])
    assert within(pos["AAPL"], 3000 / start_mid["AAPL"], start_mid["AAPL"])
    assert pos["BND"] == 30
    orders = h.orders()
    sells_done = max(ts(o["updated_at"]) for o in orders if o["side"] == "sell")
    assert all(ts(o["submitted_at"]) >= sells_done for o in orders if o["side"] == "buy")
    # results come from broker fills
    for res in result.items:
        if res.action is not Action.HOLD:
            qty, notional = h.filled(res.symbol, "buy" if res.action is Action.BUY else "sell")
            assert (res.filled_qty, res.filled_notional) == (qty, notional)
            assert res.outcome is ItemOutcome.FILLED
            mine = [o for o in orders if o["symbol"] == res.symbol]
            assert res.started_at == min(ts(o["submitted_at"]) for o in mine)
            assert res.completed_at == max(ts(o["filled_at"]) for o in mine)


def test_buys_wait_for_a_resting_sell_to_be_cancelled(h: Harness) -> None:
    h.account("3000", {"IWM": "20"})
    h.sim.control.halt("IWM")  # the sell rests: nothing fills while halted
    config = MARKET.model_copy(update={"sell_wait_max_s": 10.0, "quote_max_age_s": 3600.0})
    result = h.run(
        h.plan(item("IWM", Action.SELL, "-2000"), item("GLD", Action.BUY, "2000")), config
    )
    orders = h.orders()
    sell = next(o for o in orders if o["side"] == "sell")
    buy = next(o for o in orders if o["side"] == "buy")
    assert sell["status"] == "canceled"
    assert ts(buy["submitted_at"]) >= ts(sell["canceled_at"])
    by_symbol = {i.symbol: i for i in result.items}
    assert by_symbol["IWM"].reason is Reason.DEADLINE
    assert by_symbol["GLD"].outcome is ItemOutcome.FILLED
    assert result.status is ExecutionStatus.PARTIAL


def test_buys_never_exceed_buying_power(h: Harness) -> None:
    h.account("5000")
    config = MARKET.model_copy(update={"cash_reserve": Decimal(500)})
    plan = h.plan(
        item("SPY", Action.BUY, "6000"),
        item("GLD", Action.BUY, "4000"),
        item("BND", Action.BUY, "2000"),
    )
    result = h.run(plan, config)
    assert result.status is ExecutionStatus.PARTIAL
    assert all(i.reason is Reason.BUYING_POWER for i in result.items)
    assert all(o["status"] == "filled" for o in h.orders())  # none refused by the broker
    spent = sum(h.filled(s, "buy")[1] for s in ("SPY", "GLD", "BND"))
    assert spent <= Decimal(4500)
    assert spent >= Decimal(4000)  # proportional scale-down still uses the money
    state = h.sim.control.account_state(h.key)
    assert state.cash >= Decimal(500)


def test_item_without_valid_quote_is_reported_not_guessed(h: Harness) -> None:
    h.account("10000", {"IWM": "10"})
    h.sim.control.halt("IWM")
    h.sim.control.advance_time(120)  # its quote is now two minutes old
    h.sim.control.freeze_market(True)
    h.sim.control.set_quote("GLD", Decimal("200"), Decimal("210"))  # ~490 bps spread
    plan = h.plan(
        item("IWM", Action.SELL, "-500"),
        item("GLD", Action.BUY, "1000"),
        item("BND", Action.BUY, "1000"),
    )
    result = h.run(plan)
    by_symbol = {i.symbol: i for i in result.items}
    for symbol in ("IWM", "GLD"):
        assert by_symbol[symbol].outcome is ItemOutcome.NOT_TRADED
        assert by_symbol[symbol].reason is Reason.NO_VALID_QUOTE
    assert {o["symbol"] for o in h.orders()} == {"BND"}
    assert result.status is ExecutionStatus.PARTIAL


class CrashError(RuntimeError):
    """Stands in for the Lambda dying mid-plan."""


class CrashAfter:
    """Our BrokerPort wrapping the real adapter; dies after ``k`` submissions."""

    def __init__(self, inner: Any, k: int) -> None:
        self._inner, self._left = inner, k

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        if self._left == 0:
            raise CrashError("executor killed")
        self._left -= 1
        order: BrokerOrder = await self._inner.submit_order(request)
        return order


def test_killed_mid_plan_then_rerun_finishes_without_overfill(h: Harness) -> None:
    h.account("30000", {"SPY": "8", "TLT": "40"})
    plan = h.plan(
        item("TLT", Action.SELL, "-3680", "0"),
        item("SPY", Action.SELL, "-1500"),
        item("QQQ", Action.BUY, "4000"),
        item("AAPL", Action.BUY, "4000"),
        item("MSFT", Action.BUY, "4000"),
        item("NOFR", Action.BUY, "900"),
        plan_id="crash-plan",
    )
    with pytest.raises(CrashError):
        h.run(plan, broker=CrashAfter(h.broker(), k=3))
    # the third submit races the crash (its task is cancelled mid-flight): 2 or 3 orders exist
    assert 2 <= len(h.orders()) <= 3
    second = h.run(plan)
    assert second.status is ExecutionStatus.SUCCEEDED, second.reason
    orders = h.orders()
    key = plan_key("crash-plan")
    assert all(o["client_order_id"].startswith(key) for o in orders)
    assert len({o["client_order_id"] for o in orders}) == len(orders)
    for it in plan.items:
        side = "buy" if it.action is Action.BUY else "sell"
        _qty, notional = h.filled(it.symbol, side)
        assert len([o for o in orders if o["symbol"] == it.symbol]) == 1  # never sent twice
        if not it.is_liquidation:
            assert notional <= abs(it.trade_amount) * Decimal("1.005") + 1
    assert "TLT" not in h.positions()
    assert h.filled("TLT", "sell")[0] == 40
