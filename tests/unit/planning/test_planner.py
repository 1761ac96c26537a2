"""build_plan against our own BrokerPort fake: §4.9 rules, skips and rejections."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from rebalance_executor.domain.allocation import TargetAllocation
from rebalance_executor.domain.broker import BrokerOrder, OrderStatus, OrderType, Side
from rebalance_executor.domain.clock import SystemClock
from rebalance_executor.domain.plan import Action, PlanItem, RebalancePlan
from rebalance_executor.planning import (
    InvalidAllocationError,
    PlanningError,
    PlanningSkip,
    SkipCode,
    build_plan,
)
from tests.fakes.broker import FakeBroker
from tests.unit.planning.fake_broker import NOW, snapshot_broker


def allocation(targets: dict[str, str] | None = None, **options: Any) -> TargetAllocation:
    return TargetAllocation.model_validate(
        {
            "schedule_name": "monthly",
            "scheduled_time": NOW.isoformat(),
            "targets": targets or {"SPY": "0.6", "BND": "0.4"},
            "options": options,
        }
    )


def plan_for(
    alloc: TargetAllocation, broker: FakeBroker, prefix: str | None = None, **kwargs: Any
) -> RebalancePlan | PlanningSkip:
    return asyncio.run(
        build_plan(alloc, broker=broker, clock=SystemClock(), own_order_prefix=prefix, **kwargs)
    )


def as_plan(result: RebalancePlan | PlanningSkip) -> RebalancePlan:
    assert isinstance(result, RebalancePlan), result
    return result


def by_symbol(plan: RebalancePlan) -> dict[str, PlanItem]:
    return {item.symbol: item for item in plan.items}


def order(
    symbol: str,
    side: Side,
    qty: str,
    *,
    filled: str = "0",
    status: OrderStatus = OrderStatus.NEW,
    client_id: str = "other-1",
) -> BrokerOrder:
    return BrokerOrder(
        id=f"id-{symbol}-{client_id}",
        client_order_id=client_id,
        symbol=symbol,
        side=side,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        filled_qty=Decimal(filled),
        status=status,
        submitted_at=NOW + timedelta(seconds=5),
    )


DRIFTED = {"SPY": "100", "BND": "500"}  # $50,000 SPY + $35,000 BND of $100,000 equity


def test_drifted_account_gets_buys_to_targets_with_plan_contract_fields() -> None:
    alloc = allocation()
    plan = as_plan(plan_for(alloc, snapshot_broker(positions=DRIFTED)))
    items = by_symbol(plan)
    assert items["SPY"].action is Action.BUY
    assert items["SPY"].trade_amount == Decimal("10000.00")
    assert items["BND"].trade_amount == Decimal("5000.00")
    assert items["SPY"].current_weight == Decimal("0.5")
    assert items["SPY"].target_weight == Decimal("0.6")
    assert plan.plan_id == alloc.derived_plan_id()
    assert plan.timestamp == alloc.scheduled_time
    assert plan.total_trade_value == Decimal("15000.00")
    assert plan.total_portfolio_value == Decimal(100000)
    assert plan.metadata["source"] == "schedule"


def test_overweight_symbol_is_sold() -> None:
    plan = as_plan(plan_for(allocation(), snapshot_broker(positions={"SPY": "160"})))
    items = by_symbol(plan)
    assert items["SPY"].action is Action.SELL
    assert items["SPY"].trade_amount == Decimal("-20000.00")
    assert not items["SPY"].is_liquidation


def test_within_tolerance_is_a_skip_carrying_an_all_hold_plan() -> None:
    broker = snapshot_broker(positions={"SPY": "119", "BND": "580"})  # 59.5% / 40.6%
    result = plan_for(allocation(), broker)
    assert isinstance(result, PlanningSkip)
    assert result.code is SkipCode.WITHIN_TOLERANCE
    assert result.plan is not None
    assert {item.action for item in result.plan.items} == {Action.HOLD}


def test_market_closed_skips_after_reading_only_the_clock() -> None:
    broker = snapshot_broker(is_open=False)
    result = plan_for(allocation(), broker)
    assert isinstance(result, PlanningSkip)
    assert result.code is SkipCode.MARKET_CLOSED
    assert result.plan is None
    assert broker.calls == ["get_clock"]


@pytest.mark.parametrize(
    ("broker", "fragment"),
    [
        (snapshot_broker(), "unknown symbol"),
        (snapshot_broker(prices={"SPY": "500", "ZZZZ": "1"}, untradable={"ZZZZ"}), "not tradable"),
    ],
)
def test_unknown_or_untradable_target_is_invalid_before_reading_the_account(
    broker: FakeBroker, fragment: str
) -> None:
    with pytest.raises(InvalidAllocationError) as info:
        plan_for(allocation({"SPY": "0.5", "ZZZZ": "0.5"}), broker)
    assert fragment in info.value.reason
    assert info.value.field == "targets.ZZZZ"
    assert "get_account" not in broker.calls


def test_unlisted_holdings_are_kept_unless_liquidation_is_asked() -> None:
    positions = {"SPY": "100", "BND": "500", "AAPL": "10.5"}
    kept = as_plan(plan_for(allocation(), snapshot_broker(positions=positions)))
    assert "AAPL" not in by_symbol(kept)
    sold = as_plan(
        plan_for(allocation(liquidate_unlisted=True), snapshot_broker(positions=positions))
    )
    aapl = by_symbol(sold)["AAPL"]
    assert aapl.action is Action.SELL
    assert aapl.is_liquidation
    assert aapl.trade_amount == Decimal("-2100.00")


def test_zero_target_liquidates_even_inside_drift_tolerance() -> None:
    broker = snapshot_broker(positions={"SPY": "120", "BND": "570", "AAPL": "5"})  # AAPL 1%
    plan = as_plan(plan_for(allocation({"SPY": "0.6", "BND": "0.4", "AAPL": "0"}), broker))
    assert by_symbol(plan)["AAPL"].is_liquidation
    assert by_symbol(plan)["SPY"].action is Action.HOLD


def test_open_orders_count_toward_current_exposure() -> None:
    pending = [order("SPY", Side.BUY, "20"), order("BND", Side.SELL, "10", filled="4")]
    broker = snapshot_broker(positions=DRIFTED, orders=pending)
    items = by_symbol(as_plan(plan_for(allocation(), broker)))
    assert items["SPY"].action is Action.HOLD  # 100 held + 20 pending = 60%
    assert items["BND"].trade_amount == Decimal("5420.00")  # 6 still to sell at $70


def test_retried_tick_backs_out_its_own_orders() -> None:
    own = [
        order("SPY", Side.BUY, "20", filled="20", status=OrderStatus.FILLED, client_id="pk-0-0"),
        order("BND", Side.BUY, "71", filled="30", client_id="pk-1-0"),
    ]
    # Positions already include the 20 + 30 shares this plan bought on its first attempt.
    broker = snapshot_broker(positions={"SPY": "120", "BND": "530"}, orders=own)
    items = by_symbol(as_plan(plan_for(allocation(), broker, prefix="pk-")))
    assert items["SPY"].trade_amount == Decimal("10000.00")
    assert items["BND"].trade_amount == Decimal("5000.00")


def test_cash_reserve_scales_the_investable_equity() -> None:
    plan = as_plan(plan_for(allocation(cash_reserve="10000"), snapshot_broker(), buy_cost_margin=0))
    assert by_symbol(plan)["SPY"].trade_amount == Decimal("54000.00")
    assert by_symbol(plan)["BND"].trade_amount == Decimal("36000.00")


def test_whole_shares_when_not_fractional_or_not_fractionable() -> None:
    prices = {"SPY": "333.33", "BND": "70.07"}
    broker = snapshot_broker(prices=prices)
    plan = as_plan(plan_for(allocation(fractional=False), broker, buy_cost_margin=0))
    assert by_symbol(plan)["SPY"].trade_amount == Decimal("59999.40")  # 180 shares
    assert by_symbol(plan)["BND"].trade_amount == Decimal("39939.90")  # 570 shares
    broker = snapshot_broker(prices=prices, non_fractionable={"BND"})
    mixed = by_symbol(as_plan(plan_for(allocation(), broker, buy_cost_margin=0)))
    assert mixed["SPY"].trade_amount == Decimal("60000.00")
    assert mixed["BND"].trade_amount == Decimal("39939.90")


def test_drift_above_tolerance_but_below_min_trade_is_held() -> None:
    broker = snapshot_broker(equity="1000", positions={"SPY": "1", "BND": "5.6"})  # 50% / 39.2%
    result = plan_for(allocation(max_drift_tolerance="0.005", min_trade_notional="50"), broker)
    plan = as_plan(result)
    assert by_symbol(plan)["SPY"].trade_amount == Decimal("100.00")
    assert by_symbol(plan)["BND"].action is Action.HOLD  # $8 < $50


def test_non_positive_equity_is_a_planning_error() -> None:
    with pytest.raises(PlanningError, match="equity"):
        plan_for(allocation(), snapshot_broker(equity="0"))


def test_pending_order_without_any_price_is_a_planning_error() -> None:
    # An open AAPL buy exists but AAPL has no quote and no position to value it by.
    broker = snapshot_broker(prices={"BND": "70"}, orders=[order("AAPL", Side.BUY, "1")])
    with pytest.raises(PlanningError, match="AAPL"):
        plan_for(allocation({"BND": "0.5"}), broker)


def test_plan_larger_than_max_items_is_a_planning_error() -> None:
    broker = snapshot_broker(positions={"AAPL": "1", "QQQ": "1"})
    with pytest.raises(PlanningError) as info:
        plan_for(allocation(max_items=2, liquidate_unlisted=True), broker)
    assert info.value.field == "options.max_items"


def test_margin_and_short_books_plan_in_dollars_without_out_of_range_weights() -> None:
    broker = snapshot_broker(positions={"SPY": "300", "BND": "-10"})  # 150% long SPY, short BND
    items = by_symbol(as_plan(plan_for(allocation(), broker)))
    assert items["SPY"].trade_amount == Decimal("-90000.00")
    assert items["SPY"].current_weight is None
    assert items["BND"].trade_amount == Decimal("40700.00")  # covers the short, then buys
    assert not items["BND"].is_liquidation


def test_buys_are_scaled_to_what_cash_and_sells_can_pay_for() -> None:
    # All cash: buying 100% would need 103% once the broker's 3% market-buy hold is counted.
    funded = as_plan(plan_for(allocation(), snapshot_broker()))
    buys = sum(item.trade_amount for item in funded.items)
    assert buys * Decimal("1.03") <= Decimal(100000)
    assert buys >= Decimal(100000) / Decimal("1.03") - Decimal("0.05")
    ratio = by_symbol(funded)["SPY"].trade_amount / by_symbol(funded)["BND"].trade_amount
    assert abs(ratio - Decimal("1.5")) < Decimal("0.000001")  # one factor for every buy
    # Sells fund buys: SPY 160 shares ($80k) of $100k, no other cash.
    broker = snapshot_broker(positions={"SPY": "160"})
    broker.cash = Decimal(20000)
    plan = by_symbol(as_plan(plan_for(allocation(), broker, cash_reserve=Decimal(500))))
    assert plan["SPY"].trade_amount == Decimal("-20000.00")
    budget = Decimal(20000 - 500 + 20000)
    assert plan["BND"].trade_amount * Decimal("1.03") <= budget
    assert plan["BND"].trade_amount > budget / Decimal("1.03") - Decimal("0.05")


def test_a_buy_cut_below_min_trade_becomes_a_hold() -> None:
    broker = snapshot_broker(positions={"SPY": "100", "BND": "500"})
    broker.cash = Decimal(40)  # $40 of $100k in cash; SPY and BND want $15k more
    plan = plan_for(allocation(min_trade_notional="50"), broker)
    assert isinstance(plan, PlanningSkip)
    assert plan.code is SkipCode.WITHIN_TOLERANCE


def test_retried_tick_plans_from_the_pre_trade_cash_too() -> None:
    def filled(symbol: str, side: Side, qty: str, price: str, coid: str) -> BrokerOrder:
        done = order(symbol, side, qty, filled=qty, status=OrderStatus.FILLED, client_id=coid)
        return done.model_copy(update={"filled_avg_price": Decimal(price)})

    first_broker = snapshot_broker(positions={"SPY": "160"})
    first_broker.cash = Decimal(20000)
    first = by_symbol(as_plan(plan_for(allocation(), first_broker, prefix="pk-")))

    sold = filled("SPY", Side.SELL, "40", "500", "pk-0-0")
    bought = filled("BND", Side.BUY, "100", "70", "pk-1-0")
    # After the crashed attempt: 40 SPY sold (+$20,000), 100 BND bought (-$7,000).
    retry_broker = snapshot_broker(positions={"SPY": "120", "BND": "100"}, orders=[sold, bought])
    retry_broker.cash = Decimal(33000)
    retry = by_symbol(as_plan(plan_for(allocation(), retry_broker, prefix="pk-")))

    assert retry["SPY"].trade_amount == first["SPY"].trade_amount == Decimal("-20000.00")
    assert retry["BND"].trade_amount == first["BND"].trade_amount
    assert first["BND"].trade_amount < Decimal(40000)  # scaled to the cash sells will free


def test_retried_tick_pins_an_item_its_first_attempt_completed() -> None:
    # First attempt bought 20 SPY at $500; the price has since moved to $500.40.
    done = order("SPY", Side.BUY, "20", filled="20", status=OrderStatus.FILLED, client_id="pk-0-0")
    prices = {"SPY": "500.40", "BND": "70"}
    broker = snapshot_broker(positions={"SPY": "120", "BND": "500"}, orders=[done], prices=prices)
    broker.equity = Decimal("100008.00")
    items = by_symbol(as_plan(plan_for(allocation(), broker, prefix="pk-")))
    assert items["SPY"].trade_amount == Decimal("10008.00")  # exactly the 20 shares filled
    # Far from complete (only 2 of ~20 shares): re-planned normally, nothing pinned.
    part = done.model_copy(update={"filled_qty": Decimal(2)})
    broker = snapshot_broker(positions={"SPY": "102", "BND": "500"}, orders=[part], prices=prices)
    replanned = by_symbol(as_plan(plan_for(allocation(), broker, prefix="pk-")))
    assert replanned["SPY"].trade_amount == Decimal("9960.00")  # $60,000 - 100 x $500.40
