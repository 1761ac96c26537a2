"""Buys are funded from cash only (SPEC §4.4; issue 15 item 2), never from margin buying power
unless ALLOW_MARGIN."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from alpaca.trading.enums import AccountStatus
from alpaca.trading.models import TradeAccount

from rebalance_executor.adapters.alpaca_mapping import to_account
from rebalance_executor.domain.broker import (
    AccountSnapshot,
    BrokerOrder,
    OrderStatus,
    OrderType,
    Quote,
    Side,
)
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ExecutionStatus, ItemOutcome, ItemResult, Reason
from rebalance_executor.executor.sizing import buy_budget, open_buy_reservation
from tests.fakes.broker import T0
from tests.unit.executor.helpers import MARKET, plan, run, stocked_broker

BUYS_16K = plan(("AAA", Action.BUY, "8000"), ("CCC", Action.BUY, "8000"))


def _spent(items: Sequence[ItemResult]) -> Decimal:
    return sum((i.filled_notional for i in items), Decimal(0))


def test_regression_margin_account_10k_cash_16k_buys_never_borrows() -> None:
    """Reproduced: margin account, $10k cash, $16k of buys -> cash -$6,000, SUCCEEDED."""
    broker = stocked_broker("10000", margin=True)
    broker.positions = {}
    broker.quote("CCC", "49.99", "50.01")
    account_bp = 2 * broker.cash
    result = run(BUYS_16K, broker)
    assert account_bp == Decimal(20_000)  # the margin buying power the old sizing spent
    assert broker.cash >= 0
    assert result.status is ExecutionStatus.PARTIAL
    assert Decimal(9_000) < _spent(result.items) <= Decimal(10_000)
    for item in result.items:
        assert item.outcome is ItemOutcome.PARTIAL
        assert item.reason is Reason.BUYING_POWER
        assert item.reason_detail is not None
        assert "shortfall" in item.reason_detail
        assert "cash 10000.00" in item.reason_detail


def test_allow_margin_lets_buys_use_buying_power() -> None:
    broker = stocked_broker("10000", margin=True)
    broker.positions = {}
    broker.quote("CCC", "49.99", "50.01")
    result = run(BUYS_16K, broker, MARKET.model_copy(update={"allow_margin": True}))
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason
    assert broker.cash < Decimal(-5_900)


def test_cash_reserve_is_kept_on_a_margin_account() -> None:
    broker = stocked_broker("10000", margin=True)
    broker.positions = {}
    broker.quote("CCC", "49.99", "50.01")
    run(BUYS_16K, broker, MARKET.model_copy(update={"cash_reserve": Decimal(2_500)}))
    assert broker.cash >= Decimal(2_500)


def test_margin_debt_means_no_buys() -> None:
    broker = stocked_broker("-500", margin=True)
    broker.positions = {"BBB": Decimal(400)}  # equity ~19.5k, buying power ~39k
    result = run(plan(("AAA", Action.BUY, "1000")), broker)
    assert broker.submits == []
    assert result.items[0].reason is Reason.BUYING_POWER
    assert result.status is ExecutionStatus.FAILED


def _account(cash: str, nmbp: str | None, bp: str = "40000") -> AccountSnapshot:
    return AccountSnapshot(
        account_id="a",
        equity=Decimal(20_000),
        cash=Decimal(cash),
        buying_power=Decimal(bp),
        non_marginable_buying_power=None if nmbp is None else Decimal(nmbp),
        multiplier=Decimal(2),
    )


def test_budget_is_the_smaller_of_cash_less_reservations_and_non_marginable_power() -> None:
    config = ExecutionConfig(cash_reserve=Decimal(100))
    assert buy_budget(_account("10000", "7000"), Decimal(2000), config).amount == Decimal(6900)
    assert buy_budget(_account("10000", "9500"), Decimal(2000), config).amount == Decimal(7900)
    assert buy_budget(_account("10000", None), Decimal(0), config).amount == Decimal(9900)
    margin = config.model_copy(update={"allow_margin": True})
    assert buy_budget(_account("10000", "7000"), Decimal(2000), margin).amount == Decimal(39_900)


def _order(oid: str, side: Side, kind: OrderType, status: OrderStatus, **kw: str) -> BrokerOrder:
    return BrokerOrder(
        id=oid,
        client_order_id=f"manual-{oid}",
        symbol=kw.get("symbol", "AAA"),
        side=side,
        type=kind,
        qty=Decimal(kw.get("qty", "10")),
        filled_qty=Decimal(kw.get("filled", "0")),
        limit_price=Decimal(kw["limit"]) if "limit" in kw else None,
        status=status,
        submitted_at=T0 - timedelta(hours=1),
    )


def test_open_buys_reserve_limit_times_unfilled_and_market_at_the_ask() -> None:
    quote = Quote(symbol="AAA", bid=Decimal(99), ask=Decimal(100), timestamp=T0)
    orders = [
        _order(
            "l", Side.BUY, OrderType.LIMIT, OrderStatus.PARTIALLY_FILLED, limit="50", filled="4"
        ),
        _order("m", Side.BUY, OrderType.MARKET, OrderStatus.NEW, qty="2"),
        _order("s", Side.SELL, OrderType.LIMIT, OrderStatus.NEW, limit="90"),
        _order("f", Side.BUY, OrderType.LIMIT, OrderStatus.FILLED, limit="70"),
        _order("u", Side.BUY, OrderType.MARKET, OrderStatus.NEW, symbol="ZZZ"),  # no quote
    ]
    reserved = open_buy_reservation(orders, {"AAA": quote})
    # 6 unfilled x $50 + 2 x ask x 1.03 (market buffer); sells and terminal orders reserve nothing
    assert reserved == Decimal(300) + Decimal(2) * Decimal(100) * Decimal("1.03")


def test_account_mapping_keeps_every_buying_power_field_of_a_margin_account() -> None:
    """A paper margin account as Alpaca serves it (alpaca-behaviour.md row 1)."""
    raw = TradeAccount(
        id=uuid.UUID(int=1),
        account_number="PA1",
        status=AccountStatus.ACTIVE,
        cash="10000",
        equity="10000",
        buying_power="20000",
        regt_buying_power="20000",
        daytrading_buying_power="0",
        non_marginable_buying_power="10000",
        multiplier="2",
    )
    account = to_account(raw)
    assert account.buying_power == Decimal(20_000)
    assert account.regt_buying_power == Decimal(20_000)
    assert account.daytrading_buying_power == Decimal(0)
    assert account.non_marginable_buying_power == Decimal(10_000)
    assert account.multiplier == Decimal(2)
    assert buy_budget(account, Decimal(0), ExecutionConfig()).amount == Decimal(10_000)
