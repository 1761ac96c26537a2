"""JSON shapes exactly as Alpaca sends them (the fields alpaca-py 0.44 parses).

Money and quantities are strings of Decimals, timestamps RFC 3339 UTC.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from alpaca_sim.accounts import SimAccount, held_for_orders
from alpaca_sim.engine import SimEngine, asset_id
from alpaca_sim.orders import SimOrder
from alpaca_sim.scenario import SymbolSpec
from alpaca_sim.session import next_close, next_open


def _ts(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _num(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value.normalize(), "f")


def order_json(order: SimOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": _ts(order.created_at),
        "updated_at": _ts(order.updated_at or order.created_at),
        "submitted_at": _ts(order.created_at),
        "filled_at": _ts(order.filled_at),
        "expired_at": _ts(order.expired_at),
        "canceled_at": _ts(order.canceled_at),
        "failed_at": _ts(order.failed_at),
        "replaced_at": _ts(order.replaced_at),
        "replaced_by": order.replaced_by,
        "replaces": order.replaces,
        "asset_id": order.asset_id,
        "symbol": order.symbol,
        "asset_class": "us_equity",
        "notional": _num(order.notional),
        "qty": _num(order.qty),
        "filled_qty": _num(order.filled_qty),
        "filled_avg_price": _num(order.filled_avg_price),
        "order_class": "simple",
        "order_type": order.type,
        "type": order.type,
        "side": order.side,
        "position_intent": "buy_to_open" if order.side == "buy" else "sell_to_close",
        "time_in_force": order.time_in_force,
        "limit_price": _num(order.limit_price),
        "stop_price": None,
        "status": order.status,
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }


def account_json(engine: SimEngine, account: SimAccount) -> dict[str, Any]:
    powers = engine.buying_powers(account)
    long_value = engine.long_value(account)
    equity = account.cash + long_value
    return {
        "id": account.id,
        "account_number": account.number,
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "buying_power": _num(powers.buying_power),
        "regt_buying_power": _num(powers.regt_buying_power),
        "daytrading_buying_power": _num(powers.daytrading_buying_power),
        "non_marginable_buying_power": _num(powers.non_marginable_buying_power),
        "options_buying_power": _num(powers.non_marginable_buying_power),
        "cash": _num(account.cash),
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": _num(equity),
        "pattern_day_trader": account.pattern_day_trader,
        "trading_blocked": account.trading_blocked,
        "transfers_blocked": False,
        "account_blocked": account.account_blocked,
        "created_at": _ts(account.created_at),
        "trade_suspended_by_user": False,
        "multiplier": str(powers.multiplier),
        "shorting_enabled": False,
        "equity": _num(equity),
        "last_equity": _num(equity),
        "long_market_value": _num(long_value),
        "short_market_value": "0",
        "initial_margin": _num(powers.initial_margin),
        "maintenance_margin": _num(powers.maintenance_margin),
        "last_maintenance_margin": _num(powers.maintenance_margin),
        "sma": "0",
        "daytrade_count": account.daytrade_count,
        "options_approved_level": 0,
        "options_trading_level": 0,
    }


def position_json(engine: SimEngine, account: SimAccount, symbol: str) -> dict[str, Any]:
    holding = account.holdings[symbol]
    mkt = engine.markets[symbol]
    price = mkt.quote.mid
    market_value = holding.qty * price
    cost = holding.qty * holding.avg_price
    pl = market_value - cost
    mine = [o for o in engine.open_orders.values() if o.api_key == account.api_key]
    held = held_for_orders(symbol, mine, mkt.quote.bid)
    first = mkt.history[0].mid
    return {
        "asset_id": asset_id(symbol),
        "symbol": symbol,
        "exchange": mkt.spec.exchange,
        "asset_class": "us_equity",
        "asset_marginable": True,
        "avg_entry_price": _num(holding.avg_price),
        "qty": _num(holding.qty),
        "qty_available": _num(max(Decimal(0), holding.qty - held)),
        "side": "long",
        "market_value": _num(market_value),
        "cost_basis": _num(cost),
        "unrealized_pl": _num(pl),
        "unrealized_plpc": _num(pl / cost if cost else Decimal(0)),
        "unrealized_intraday_pl": _num(pl),
        "unrealized_intraday_plpc": _num(pl / cost if cost else Decimal(0)),
        "current_price": _num(price),
        "lastday_price": _num(first),
        "change_today": _num((price - first) / first),
    }


def asset_json(symbol: str, spec: SymbolSpec) -> dict[str, Any]:
    return {
        "id": asset_id(symbol),
        "class": "us_equity",
        "exchange": spec.exchange,
        "symbol": symbol,
        "name": spec.name or symbol,
        "status": "active",
        "tradable": spec.tradable,
        "marginable": True,
        "shortable": False,
        "easy_to_borrow": False,
        "fractionable": spec.fractionable,
        "min_order_size": "1" if not spec.fractionable else "0.000000001",
        "min_trade_increment": "1" if not spec.fractionable else "0.000000001",
        "price_increment": "0.01" if spec.price >= 1 else "0.0001",
        "attributes": ["fractional_eh_enabled"] if spec.fractionable else [],
    }


def clock_json(now: datetime, is_open: bool, session_close: datetime) -> dict[str, Any]:
    """``next_close`` is the 16:00 New York close at which (faithful broker) DAY orders expire."""
    return {
        "timestamp": _ts(now),
        "is_open": is_open,
        "next_open": _ts(next_open(now)),
        "next_close": _ts(session_close if session_close > now else next_close(now)),
    }
