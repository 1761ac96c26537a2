"""Accounts keyed by API key: cash, positions, flags, and Alpaca's buying-power reservation.

Buying power follows a cash account (multiplier 1): ``cash`` minus what open buy orders reserve.
A limit buy reserves ``limit x remaining qty``; a market buy reserves ``ask at submission x
remaining qty x (1 + MARKET_BUY_BUFFER)``; a notional buy reserves its remaining notional. Sells
reserve nothing and release nothing until they fill: the proceeds reach cash on each fill.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from alpaca_sim.orders import SimOrder

MARKET_BUY_BUFFER = Decimal("0.03")
ACCOUNT_NS = uuid.UUID("6c1d0f7e-2f4b-4c7e-9a55-6f0d4b1c2a10")


@dataclass
class Holding:
    qty: Decimal
    avg_price: Decimal


@dataclass
class SimAccount:
    """One brokerage account. Mutated only by the engine, under its lock."""

    api_key: str
    cash: Decimal
    created_at: datetime
    holdings: dict[str, Holding] = field(default_factory=dict)
    trading_blocked: bool = False
    account_blocked: bool = False

    @property
    def id(self) -> str:
        return str(uuid.uuid5(ACCOUNT_NS, self.api_key))

    @property
    def number(self) -> str:
        return "PA" + str(uuid.uuid5(ACCOUNT_NS, self.api_key).int)[:10]

    def apply_fill(self, side: str, symbol: str, qty: Decimal, price: Decimal) -> None:
        """Move cash and position for one execution (long-only: sells never go below zero)."""
        holding = self.holdings.get(symbol)
        if side == "buy":
            self.cash -= qty * price
            if holding is None:
                self.holdings[symbol] = Holding(qty, price)
            else:
                total = holding.qty + qty
                holding.avg_price = (holding.qty * holding.avg_price + qty * price) / total
                holding.qty = total
            return
        self.cash += qty * price
        if holding is not None:
            holding.qty -= qty
            if holding.qty <= 0:
                del self.holdings[symbol]


def reservation(order: SimOrder) -> Decimal:
    """Buying power an open order holds (zero for sells and closed orders)."""
    if not order.is_open or order.side != "buy":
        return Decimal(0)
    if order.notional is not None:
        return max(Decimal(0), order.remaining_notional)
    remaining = order.remaining_qty or Decimal(0)
    if order.type == "limit" and order.limit_price is not None:
        return order.limit_price * remaining
    return order.reserve_price * remaining * (1 + MARKET_BUY_BUFFER)


def buying_power(account: SimAccount, open_orders: Iterable[SimOrder]) -> Decimal:
    """Cash minus reservations of open buys, floored at zero."""
    reserved = sum((reservation(o) for o in open_orders), Decimal(0))
    return max(Decimal(0), account.cash - reserved)


def held_for_orders(symbol: str, open_orders: Iterable[SimOrder], bid: Decimal) -> Decimal:
    """Shares that open sells of ``symbol`` already claim (notional sells valued at ``bid``)."""
    held = Decimal(0)
    for order in open_orders:
        if order.side != "sell" or order.symbol != symbol or not order.is_open:
            continue
        if order.notional is not None:
            held += order.remaining_notional / bid
        else:
            held += order.remaining_qty or Decimal(0)
    return held
