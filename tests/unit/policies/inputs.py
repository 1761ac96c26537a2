"""Builders of policy inputs for the pure policy tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerOrder, OrderStatus, OrderType, Quote, Side
from rebalance_executor.executor.policies import PolicyInput

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def quote(bid: str, ask: str, *, age_s: float = 0.0, symbol: str = "SPY") -> Quote:
    return Quote(
        symbol=symbol,
        bid=Decimal(bid),
        ask=Decimal(ask),
        timestamp=NOW - timedelta(seconds=age_s),
    )


def limit_order(price: str, side: Side = Side.BUY, qty: str = "10") -> BrokerOrder:
    return BrokerOrder(
        id="o1",
        client_order_id="k-0-0",
        symbol="SPY",
        side=side,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        limit_price=Decimal(price),
        status=OrderStatus.NEW,
    )


def market_order(side: Side = Side.BUY, qty: str = "10") -> BrokerOrder:
    return limit_order("100.00", side, qty).model_copy(
        update={"type": OrderType.MARKET, "limit_price": None}
    )


def state(
    live: Quote | None,
    *,
    side: Side = Side.BUY,
    arrival: Quote | None = None,
    t: float = 0.0,
    window_s: float | None = 600.0,
    order: BrokerOrder | None = None,
    order_age_s: float | None = None,
    reference: str | None = None,
) -> PolicyInput:
    """Input ``t`` seconds into a window of ``window_s`` seconds."""
    fraction = 0.0 if not window_s else min(1.0, t / window_s)
    return PolicyInput(
        symbol="SPY",
        side=side,
        remaining_qty=Decimal(10),
        quote=live,
        arrival_quote=arrival if arrival is not None else live,
        elapsed_fraction=fraction,
        seconds_left=max(0.0, (window_s or 0.0) - t),
        live_order=order,
        live_order_age_s=order_age_s,
        repegs=0,
        now=NOW,
        window_s=window_s,
        reference=Decimal(reference) if reference is not None else None,
    )
