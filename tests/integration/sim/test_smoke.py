"""Every trading and data path alpaca-py uses round-trips through the simulator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import GetOrdersRequest, LimitOrderRequest, MarketOrderRequest

from alpaca_sim.testing import RunningSimulator


def test_account_clock_assets_round_trip(alpaca_trading: Any) -> None:
    account = alpaca_trading.get_account()
    assert Decimal(account.cash) == Decimal(100_000)
    assert Decimal(account.non_marginable_buying_power) == Decimal(100_000)
    assert Decimal(account.buying_power) == Decimal(200_000)  # paper accounts are 2x margin
    assert alpaca_trading.get_clock().is_open is True
    symbols = {a.symbol: a for a in alpaca_trading.get_all_assets()}
    assert {"SPY", "QQQ", "IWM", "VTI", "AAPL", "MSFT", "NVDA", "TLT", "BND", "GLD"} <= set(symbols)
    assert any(not a.fractionable for a in symbols.values())
    assert alpaca_trading.get_asset("SPY").fractionable is True


def test_latest_quotes_multi_symbol(alpaca_data: Any) -> None:
    quotes = alpaca_data.get_stock_latest_quote(
        StockLatestQuoteRequest(symbol_or_symbols=["SPY", "AAPL"])
    )
    assert set(quotes) == {"SPY", "AAPL"}
    spy = quotes["SPY"]
    assert 0 < spy.bid_price < spy.ask_price
    assert spy.timestamp.tzinfo is not None


def test_orders_round_trip(alpaca_trading: Any, sim: RunningSimulator) -> None:
    sim.control.pause_clock()
    sim.control.freeze_market(True)
    sim.control.set_quote("AAPL", Decimal("190.00"), Decimal("190.04"))
    limit = alpaca_trading.submit_order(
        LimitOrderRequest(
            symbol="AAPL",
            qty=2,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            limit_price=180,
            client_order_id="smoke-1",
        )
    )
    assert limit.status == OrderStatus.PENDING_NEW
    sim.control.advance_time(1)
    assert alpaca_trading.get_order_by_id(limit.id).status == OrderStatus.NEW
    assert alpaca_trading.get_order_by_id(limit.id).client_order_id == "smoke-1"
    assert alpaca_trading.get_order_by_client_id("smoke-1").id == limit.id
    open_orders = alpaca_trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))
    assert [o.id for o in open_orders] == [limit.id]
    alpaca_trading.cancel_order_by_id(limit.id)
    assert alpaca_trading.get_order_by_id(limit.id).status == OrderStatus.PENDING_CANCEL
    sim.control.advance_time(1)
    assert alpaca_trading.get_order_by_id(limit.id).status == OrderStatus.CANCELED
    submitted = alpaca_trading.submit_order(
        MarketOrderRequest(symbol="AAPL", qty=3, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert submitted.status == OrderStatus.PENDING_NEW
    sim.control.advance_time(3)
    market = alpaca_trading.get_order_by_id(submitted.id)
    assert market.status == OrderStatus.FILLED
    assert Decimal(market.filled_avg_price) == Decimal("190.04")
    position = alpaca_trading.get_open_position("AAPL")
    assert Decimal(position.qty) == 3
    closed = alpaca_trading.close_position("AAPL")
    assert closed.side == OrderSide.SELL
    sim.control.advance_time(3)
    assert alpaca_trading.get_all_positions() == []
