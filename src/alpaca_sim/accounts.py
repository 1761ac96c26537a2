"""Accounts keyed by API key: cash, positions, flags, and Alpaca's buying-power reservation.

Open buys reserve buying power: a limit buy ``limit x remaining qty``; a market buy ``ask at
submission x remaining qty x (1 + MARKET_BUY_BUFFER)``; a notional buy its remaining notional.
While a replace is pending, the pair reserves the larger of the old and the new order. Sells
reserve nothing and release nothing until they fill: the proceeds reach cash on each fill.
Margin (Reg T) arithmetic is in :func:`buying_powers`; see README "Accounts".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from alpaca_sim.orders import SimOrder

MARKET_BUY_BUFFER = Decimal("0.03")
MARGIN_MIN_EQUITY = Decimal(2_000)  # below it a margin account has multiplier 1 (FINRA 4210)
PDT_MIN_EQUITY = Decimal(25_000)  # pattern day trader: 4x intraday at or above it
INITIAL_MARGIN = Decimal("0.5")  # Reg T initial requirement on long positions
MAINTENANCE_MARGIN = Decimal("0.25")
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
    margin: bool = True
    pattern_day_trader: bool = False
    daytrade_count: int = 0
    # New York trading date of the last buy / sell fill per symbol (day-trade counting)
    last_buy_day: dict[str, date] = field(default_factory=dict)
    last_sell_day: dict[str, date] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(uuid.uuid5(ACCOUNT_NS, self.api_key))

    @property
    def number(self) -> str:
        return "PA" + str(uuid.uuid5(ACCOUNT_NS, self.api_key).int)[:10]

    def would_day_trade(self, side: str, symbol: str, day: date) -> bool:
        """Whether a ``side`` execution of ``symbol`` on ``day`` would complete a new day trade
        (the opposite side already traded it that day)."""
        opposite = self.last_sell_day if side == "buy" else self.last_buy_day
        mine = self.last_buy_day if side == "buy" else self.last_sell_day
        return opposite.get(symbol) == day and mine.get(symbol) != day

    def apply_fill(self, side: str, symbol: str, qty: Decimal, price: Decimal, day: date) -> None:
        """Move cash and position for one execution (long-only: sells never go below zero) and
        count a day trade when it closes a round trip opened the same trading day."""
        if self.would_day_trade(side, symbol, day):
            self.daytrade_count += 1
        (self.last_buy_day if side == "buy" else self.last_sell_day)[symbol] = day
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
    """Buying power an open order holds on its own (zero for sells and closed orders)."""
    if not order.is_open or order.side != "buy":
        return Decimal(0)
    if order.notional is not None:
        return max(Decimal(0), order.remaining_notional)
    remaining = order.remaining_qty or Decimal(0)
    if order.type == "limit" and order.limit_price is not None:
        return order.limit_price * remaining
    return order.reserve_price * remaining * (1 + MARKET_BUY_BUFFER)


def reserved(open_orders: Iterable[SimOrder]) -> Decimal:
    """What open buys hold; a pending replace pair holds the larger of its two orders."""
    orders = list(open_orders)
    by_id = {o.id: o for o in orders}
    total = Decimal(0)
    for order in orders:
        own = reservation(order)
        old = by_id.get(order.replaces or "")
        if old is not None and old.status == "pending_replace":
            own = max(Decimal(0), own - reservation(old))
        total += own
    return total


@dataclass(frozen=True)
class BuyingPowers:
    """The account schema's margin fields (Decimal), all net of open-buy reservations."""

    multiplier: int
    buying_power: Decimal
    regt_buying_power: Decimal
    daytrading_buying_power: Decimal
    non_marginable_buying_power: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    reserved: Decimal


def multiplier(account: SimAccount, equity: Decimal) -> int:
    """1 for cash accounts and under $2,000; 4 for a pattern day trader at $25,000; else 2."""
    if not account.margin or equity < MARGIN_MIN_EQUITY:
        return 1
    if account.pattern_day_trader and equity >= PDT_MIN_EQUITY:
        return 4
    return 2


def buying_powers(
    account: SimAccount, long_value: Decimal, open_orders: Iterable[SimOrder]
) -> BuyingPowers:
    """Reg T arithmetic: excess equity over the initial requirement, times the multiplier.

    ``non_marginable_buying_power`` is cash less reservations: what can be bought without
    borrowing. A cash account (or a margin account under $2,000) has only that.
    """
    held = reserved(open_orders)
    equity = account.cash + long_value
    mult = multiplier(account, equity)
    cash_bp = max(Decimal(0), account.cash - held)
    initial = INITIAL_MARGIN * long_value if account.margin else Decimal(0)
    maintenance = MAINTENANCE_MARGIN * long_value if account.margin else Decimal(0)
    regt = cash_bp if mult == 1 else max(Decimal(0), 2 * (equity - initial) - held)
    daytrading = max(Decimal(0), 4 * (equity - maintenance) - held) if mult == 4 else Decimal(0)
    return BuyingPowers(
        multiplier=mult,
        buying_power=daytrading if mult == 4 else regt,
        regt_buying_power=regt,
        daytrading_buying_power=daytrading,
        non_marginable_buying_power=cash_bp,
        initial_margin=initial,
        maintenance_margin=maintenance,
        reserved=held,
    )


def held_for_orders(symbol: str, open_orders: Iterable[SimOrder], bid: Decimal) -> Decimal:
    """Shares that open sells of ``symbol`` already claim (notional sells valued at ``bid``)."""
    orders = [o for o in open_orders if o.side == "sell" and o.symbol == symbol and o.is_open]
    by_id = {o.id: o for o in orders}
    held = Decimal(0)
    for order in orders:
        own = _shares(order, bid)
        old = by_id.get(order.replaces or "")
        if old is not None and old.status == "pending_replace":
            own = max(Decimal(0), own - _shares(old, bid))  # the pair holds the larger
        held += own
    return held


def _shares(order: SimOrder, bid: Decimal) -> Decimal:
    if order.notional is not None:
        return order.remaining_notional / bid
    return order.remaining_qty or Decimal(0)
