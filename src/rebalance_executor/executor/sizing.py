"""Sizing (SPEC §4.4): reference prices (a fresh valid quote's mid, else a checked trade from
:mod:`~rebalance_executor.executor.reference`), rounding, the cash budget.

Quantities are worked out as totals over every attempt at the plan: ``planned`` includes what
earlier attempts already filled, so a re-run only works the remainder (never re-sends the original
quantity). Dollar amounts are honoured across attempts: a BUY of $1000 of which $600 filled earlier
plans the remaining $400 at today's price.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from rebalance_executor.domain.broker import (
    AccountSnapshot,
    Asset,
    BrokerOrder,
    OrderType,
    Position,
    Quote,
    Side,
)
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import Action, PlanItem
from rebalance_executor.domain.result import ItemReference, Reason, ReferenceSource

logger = logging.getLogger(__name__)

FRACTION_QUANTUM = Decimal("0.000000001")
WHOLE = Decimal(1)
# Market buys are valued at the ask plus this buffer when checked against buying power: Alpaca
# reserves buying power for a market buy above the touch (the simulator models a 3% collar), so
# sizing to the bare ask would get the last buys of a tight plan refused.
MARKET_BUY_BUFFER = Decimal("0.03")


@dataclass(frozen=True)
class Prior:
    """What earlier attempts at this item already did (from reconciliation)."""

    filled_qty: Decimal = Decimal(0)
    filled_notional: Decimal = Decimal(0)
    live_unfilled: Decimal = Decimal(0)
    # the quantity of the item's first order: the total an earlier attempt sized the item to
    target_qty: Decimal | None = None


@dataclass(frozen=True)
class Sized:
    """An item's planned total quantity, or why it will not be traded."""

    planned_qty: Decimal
    ref_price: Decimal | None
    quote: Quote | None
    reason: Reason | None = None
    detail: str | None = None
    reference: ItemReference | None = None

    @property
    def planned_notional(self) -> Decimal:
        return self.planned_qty * self.ref_price if self.ref_price is not None else Decimal(0)


def quote_problem(quote: Quote | None, now: datetime | None, config: ExecutionConfig) -> str | None:
    """Why a quote cannot price a trade (None when it is fresh and valid).

    Unusable: missing; one-sided (a bid or ask of 0 is a missing side, never a price); crossed
    (ask <= bid); older than ``quote_max_age_s`` (only checked when ``now`` is known); or wider
    than ``max_spread_bps``.
    """
    if quote is None:
        return "no quote"
    if not (quote.has_bid and quote.has_ask):
        missing = "bid" if not quote.has_bid else "ask"
        return f"one-sided quote: no {missing} (bid={quote.bid} ask={quote.ask})"
    if quote.ask <= quote.bid:
        return f"crossed quote bid={quote.bid} ask={quote.ask}"
    if now is not None:
        age = (now - quote.timestamp).total_seconds()
        if age > config.quote_max_age_s:
            return f"quote is {age:.1f}s old (max {config.quote_max_age_s}s)"
    if quote.spread_bps > config.max_spread_bps:
        return f"spread {quote.spread_bps:.1f}bps above {config.max_spread_bps}bps"
    return None


def quote_reference(quote: Quote | None, now: datetime, config: ExecutionConfig) -> ItemReference:
    """The quote's mid as the reference when the quote is usable, else NONE saying why."""
    problem = quote_problem(quote, now, config)
    if problem is not None or quote is None:
        return ItemReference(source=ReferenceSource.NONE, detail=problem)
    return ItemReference(source=ReferenceSource.QUOTE, price=quote.mid, at=quote.timestamp)


def round_qty(qty: Decimal, fractionable: bool) -> Decimal:
    """Round down: 9 decimals when fractionable, whole shares otherwise; never negative."""
    if qty <= 0:
        return Decimal(0)
    return qty.quantize(FRACTION_QUANTUM if fractionable else WHOLE, rounding=ROUND_DOWN)


def size_item(
    item: PlanItem,
    *,
    asset: Asset | None,
    position: Position | None,
    quote: Quote | None,
    prior: Prior,
    now: datetime,
    config: ExecutionConfig,
    reference: ItemReference | None = None,
) -> Sized:
    """Plan one BUY/SELL item at its reference price (``reference``, by default the quote's).
    Never raises for market conditions: it returns a reason."""
    if asset is None or not asset.tradable:
        return Sized(Decimal(0), None, quote, Reason.NOT_TRADABLE, "asset unknown or not tradable")
    ref = reference if reference is not None else quote_reference(quote, now, config)
    if ref.price is None:
        return Sized(Decimal(0), None, quote, Reason.NO_VALID_QUOTE, ref.detail, ref)
    price = ref.price
    unspent = max(Decimal(0), abs(item.trade_amount) - prior.filled_notional)
    new_qty = round_qty(unspent / price, asset.fractionable)
    if prior.target_qty is not None:
        # An earlier attempt fixed the item's size with its first order: a retry works to that
        # total, never re-sizes on a new price (it would top up a filled item, or shrink it).
        new_qty = max(Decimal(0), prior.target_qty - prior.filled_qty)
    if item.action is Action.SELL:
        held = max(Decimal(0), position.qty if position is not None else Decimal(0))
        if held + prior.filled_qty <= 0:
            return Sized(Decimal(0), price, quote, Reason.NO_POSITION, "no position to sell", ref)
        # Liquidation sells exactly what is held, fractional remainder included; any other
        # sell is capped at the (rounded) holding, so it can never go short.
        new_qty = held if item.is_liquidation else min(new_qty, round_qty(held, asset.fractionable))
    wanted = prior.filled_qty + new_qty
    sized = Sized(wanted, price, quote, reference=ref)
    to_send = wanted - prior.filled_qty - prior.live_unfilled
    if (
        prior.filled_qty == 0
        and prior.live_unfilled == 0
        and to_send * price < max(config.min_order_notional, Decimal("0.01"))
    ):
        detail = f"{to_send} shares at {price} is below {config.min_order_notional}"
        return Sized(Decimal(0), price, quote, Reason.BELOW_MIN_NOTIONAL, detail, ref)
    return sized


def buy_cost(
    qty: Decimal,
    quote: Quote | None,
    limit_price: Decimal | None = None,
    *,
    reference: Decimal | None = None,
) -> Decimal:
    """What a buy of ``qty`` reserves: its limit price, or the ask plus the market buffer (the
    ``reference`` price plus the buffer when the quote shows no ask: a 0 ask is not a price)."""
    if limit_price is not None:
        return qty * limit_price
    basis = quote.ask if quote is not None and quote.has_ask else reference
    if basis is None:
        raise ValueError("a buy without a limit needs an ask or a reference price")
    return qty * basis * (1 + MARKET_BUY_BUFFER)


@dataclass(frozen=True)
class BuyBudget:
    """Dollars new buy orders may commit, and the account figures it came from (reported)."""

    amount: Decimal
    source: str


def open_buy_reservation(orders: Iterable[BrokerOrder], quotes: Mapping[str, Quote]) -> Decimal:
    """What the account's open buy orders hold back, as Alpaca reserves it (alpaca-behaviour.md
    row 2): a limit at its limit price x unfilled qty, a market buy at the ask (plus the market
    buffer). A market buy whose symbol shows no ask is logged and not valued."""
    total = Decimal(0)
    for order in orders:
        if order.side is not Side.BUY or order.status.is_terminal:
            continue
        unfilled = max(Decimal(0), (order.qty or Decimal(0)) - order.filled_qty)
        if order.type is OrderType.LIMIT and order.limit_price is not None:
            total += unfilled * order.limit_price
        elif order.symbol in quotes and quotes[order.symbol].has_ask:
            total += buy_cost(unfilled, quotes[order.symbol])
        else:
            logger.warning("open_buy_unvalued", extra={"order_id": order.id})
    return total


def buy_budget(account: AccountSnapshot, reserved: Decimal, config: ExecutionConfig) -> BuyBudget:
    """The cash buys may spend (SPEC §4.4), never margin unless ALLOW_MARGIN.

    Cash only: ``min(cash - reserved, non_marginable_buying_power) - CASH_RESERVE``; the min
    holds whether or not the broker already nets open orders out of the latter. ALLOW_MARGIN:
    ``buying_power - CASH_RESERVE`` (Alpaca nets open orders out of buying_power). Negative
    cash (margin debt) gives a negative budget: no buys.
    """
    if config.allow_margin:
        return BuyBudget(
            account.buying_power - config.cash_reserve,
            f"buying_power {account.buying_power:.2f} (ALLOW_MARGIN) less reserve "
            f"{config.cash_reserve:.2f}",
        )
    spendable = account.cash - reserved
    if account.non_marginable_buying_power is not None:
        spendable = min(spendable, account.non_marginable_buying_power)
    return BuyBudget(
        spendable - config.cash_reserve,
        f"cash {account.cash:.2f} less open buys {reserved:.2f} (non_marginable_buying_power "
        f"{account.non_marginable_buying_power}) less reserve {config.cash_reserve:.2f}",
    )


def scale_factor(costs: list[Decimal], budget: Decimal) -> Decimal:
    """Proportional scale-down: every buy gets the same fraction of its quantity (<= 1).

    The documented rule (SPEC §4.4): when the buys would cost more than the cash budget (see
    :func:`buy_budget`), each is cut by the factor ``budget / total``; rounding down then keeps
    the sum under the budget. Priorities do not reorder money: a proportional cut keeps the
    portfolio's relative weights closest to the plan.
    """
    total = sum(costs, Decimal(0))
    if total <= budget:
        return Decimal(1)
    if budget <= 0:
        return Decimal(0)
    return budget / total
