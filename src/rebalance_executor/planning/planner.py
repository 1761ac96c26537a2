"""Build a :class:`RebalancePlan` from a scheduled target allocation and the live account (§4.9).

Broker reads, in order: market clock (closed → skip before reading anything else), assets of the
targets (unknown / untradable → :class:`InvalidAllocationError`), account, positions, open orders,
latest quotes. Prices are quote mids, falling back to the position's market value; open orders
count toward current exposure. The plan's ``timestamp`` is the scheduled time, so the executor's
plan-age rule rejects a tick redelivered hours late, and its ``plan_id`` is
``allocation.derived_plan_id()``.

Broker failures propagate unchanged (:class:`BrokerError`): nothing has been sent yet, so the
caller lets Lambda retry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from rebalance_executor.domain.allocation import TargetAllocation
from rebalance_executor.domain.broker import (
    AccountSnapshot,
    Asset,
    BrokerOrder,
    BrokerPort,
    Position,
    Quote,
    Side,
)
from rebalance_executor.domain.clock import Clock
from rebalance_executor.domain.plan import Action, PlanItem, RebalancePlan
from rebalance_executor.executor.reconcile import LIST_MARGIN
from rebalance_executor.executor.sizing import MARKET_BUY_BUFFER
from rebalance_executor.planning.model import (
    InvalidAllocationError,
    PlanningError,
    PlanningSkip,
    SkipCode,
)
from rebalance_executor.planning.targets import (
    Exposure,
    compute_items,
    fit_buys,
    planned_symbols,
    snap_to_own_fills,
)

logger = logging.getLogger(__name__)

# What Alpaca reserves for a market buy above the ask; the conservative bound for every policy.
DEFAULT_BUY_COST_MARGIN = MARKET_BUY_BUFFER
# Alpaca GTC orders live up to 90 days; older open orders cannot exist.
OPEN_ORDER_LOOKBACK = timedelta(days=90)


async def build_plan(
    allocation: TargetAllocation,
    *,
    broker: BrokerPort,
    clock: Clock,
    correlation_id: str | None = None,
    own_order_prefix: str | None = None,
    cash_reserve: Decimal = Decimal(0),
    buy_cost_margin: Decimal = DEFAULT_BUY_COST_MARGIN,
) -> RebalancePlan | PlanningSkip:
    """Read the account and return the plan, or a skip when the market is closed / in tolerance.

    ``own_order_prefix`` is the client-order-id prefix the executor uses for this plan: on a
    retried tick, this plan's own fills are backed out of the positions and its open orders are
    ignored, so the rebuilt plan matches the first attempt's and the executor's reconciliation
    (§4.2) alone accounts for what was already done. ``cash_reserve`` is the executor's
    ``CASH_RESERVE`` (the larger of it and ``options.cash_reserve`` stays in cash);
    ``buy_cost_margin`` what the broker reserves above the reference price for a buy; buys
    are scaled to what the account can pay for (see ``targets.fit_buys``).

    Raises InvalidAllocationError (unknown or untradable target), PlanningError (equity not
    positive, unpriceable holding), BrokerError (broker unreachable; retryable).
    """
    plan_id = allocation.derived_plan_id()
    market = await broker.get_clock()
    if not market.is_open:
        logger.info("planning skipped", extra={"plan_id": plan_id, "code": "MARKET_CLOSED"})
        return PlanningSkip(
            plan_id=plan_id,
            code=SkipCode.MARKET_CLOSED,
            reason=f"market is closed at {market.timestamp.isoformat()}; next open "
            f"{market.next_open.isoformat() if market.next_open else 'unknown'}",
        )
    target_assets = await broker.get_assets(list(allocation.targets))
    _check_assets(allocation, target_assets)
    account = await broker.get_account()
    if account.equity <= 0:
        raise PlanningError(f"account equity is {account.equity}; nothing can be allocated")
    own = await _own_fills(broker, allocation, own_order_prefix)
    exposures = await _read_exposures(broker, allocation, target_assets, own_order_prefix, own)
    items = compute_items(allocation, account.equity, exposures)
    items, buy_factor = fit_buys(
        items,
        exposures,
        spendable=_spendable(account, allocation, cash_reserve) - own.cash_delta,
        margin=buy_cost_margin,
        min_trade=allocation.options.min_trade_notional,
    )
    items = snap_to_own_fills(items, exposures, own.qty)
    if len(items) > allocation.options.max_items:
        raise PlanningError(
            f"options.max_items: the plan needs {len(items)} items, more than "
            f"{allocation.options.max_items}",
            field="options.max_items",
        )
    plan = _plan(allocation, items, account.equity, correlation_id or plan_id)
    logger.info(
        "plan built from allocation",
        extra={
            "plan_id": plan_id,
            "items": len(items),
            "trade_value": plan.total_trade_value,
            "buy_scale": buy_factor,
        },
    )
    if all(item.action is Action.HOLD for item in items):
        return PlanningSkip(
            plan_id=plan_id,
            code=SkipCode.WITHIN_TOLERANCE,
            reason="every symbol is within max_drift_tolerance or below min_trade_notional",
            plan=plan,
        )
    return plan


def _spendable(
    account: AccountSnapshot, allocation: TargetAllocation, cash_reserve: Decimal
) -> Decimal:
    """Cash the buys may use before any sell: never margin, less open buys' reservations."""
    # Cash accounts report buying power = cash - open buy reservations; margin accounts report
    # a multiple of equity there, and the unleveraged, unreserved cash in
    # non_marginable_buying_power: the smallest figure is never margin. (The executor enforces
    # its own cash budget again, open orders valued; SPEC §4.4.)
    figures = [account.cash, account.buying_power]
    if account.non_marginable_buying_power is not None:
        figures.append(account.non_marginable_buying_power)
    cash = max(Decimal(0), min(figures))
    return cash - max(cash_reserve, allocation.options.cash_reserve)


def _check_assets(allocation: TargetAllocation, assets: Mapping[str, Asset]) -> None:
    for symbol in allocation.targets:
        asset = assets.get(symbol)
        if asset is None:
            raise InvalidAllocationError(
                f"targets.{symbol}: unknown symbol at the broker", field=f"targets.{symbol}"
            )
        if not asset.tradable:
            raise InvalidAllocationError(
                f"targets.{symbol}: asset is not tradable", field=f"targets.{symbol}"
            )


async def _read_exposures(
    broker: BrokerPort,
    allocation: TargetAllocation,
    target_assets: Mapping[str, Asset],
    own_prefix: str | None,
    own: OwnFills,
) -> dict[str, Exposure]:
    """Positions, open orders and quotes, valued per symbol that the plan may touch."""
    positions = await broker.get_positions()
    pending = await _pending_orders(broker, allocation, own_prefix)
    held = _held_quantities(positions, own.qty)
    symbols = sorted(set(planned_symbols(allocation, held)) | set(pending))
    quotes = await broker.get_latest_quotes(symbols)
    assets = dict(target_assets)
    extra = [s for s in symbols if s not in assets]
    if extra:
        assets.update(await broker.get_assets(extra))
    return {
        s: _exposure(
            s,
            held=held,
            positions=positions,
            pending=pending.get(s, ()),
            quotes=quotes,
            assets=assets,
            allocation=allocation,
        )
        for s in symbols
    }


async def _pending_orders(
    broker: BrokerPort, allocation: TargetAllocation, own_prefix: str | None
) -> dict[str, tuple[BrokerOrder, ...]]:
    """Open orders per symbol, excluding this plan's own (the executor adopts those)."""
    after = allocation.scheduled_time - OPEN_ORDER_LOOKBACK
    grouped: dict[str, list[BrokerOrder]] = {}
    for order in await broker.list_orders(after=after, open_only=True):
        if own_prefix and order.client_order_id.startswith(own_prefix):
            continue
        grouped.setdefault(order.symbol, []).append(order)
    return {symbol: tuple(orders) for symbol, orders in grouped.items()}


@dataclass(frozen=True)
class OwnFills:
    """What this plan's own earlier attempts already did: signed quantity per symbol (buys +)
    and the cash those fills moved (sells +, buys -)."""

    qty: Mapping[str, Decimal] = field(default_factory=dict)
    cash_delta: Decimal = Decimal(0)


async def _own_fills(
    broker: BrokerPort, allocation: TargetAllocation, own_prefix: str | None
) -> OwnFills:
    """This plan's fills since the tick, so a retried tick plans from the pre-trade account.

    Listed from the same margin before the tick as the executor's reconciliation uses.
    """
    if not own_prefix:
        return OwnFills()
    qty: dict[str, Decimal] = {}
    cash = Decimal(0)
    for order in await broker.list_orders(after=allocation.scheduled_time - LIST_MARGIN):
        if not order.client_order_id.startswith(own_prefix) or order.filled_qty <= 0:
            continue
        sign = 1 if order.side is Side.BUY else -1
        qty[order.symbol] = qty.get(order.symbol, Decimal(0)) + sign * order.filled_qty
        cash -= sign * order.filled_qty * (order.filled_avg_price or Decimal(0))
    return OwnFills(qty=qty, cash_delta=cash)


def _held_quantities(
    positions: Mapping[str, Position], own_fills: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    held = {symbol: position.qty for symbol, position in positions.items()}
    for symbol, filled in own_fills.items():
        held[symbol] = held.get(symbol, Decimal(0)) - filled
    return held


def _price(symbol: str, quotes: Mapping[str, Quote], position: Position | None) -> Decimal | None:
    """Quote mid when the quote is sane, else the position's own valuation, else unknown."""
    quote = quotes.get(symbol)
    if quote is not None and quote.bid > 0 and quote.ask >= quote.bid:
        return quote.mid
    if position is not None and position.market_value is not None and position.qty != 0:
        return position.market_value / position.qty
    return None


def _exposure(
    symbol: str,
    *,
    held: Mapping[str, Decimal],
    positions: Mapping[str, Position],
    pending: Sequence[BrokerOrder],
    quotes: Mapping[str, Quote],
    assets: Mapping[str, Asset],
    allocation: TargetAllocation,
) -> Exposure:
    """Value one symbol: held quantity plus pending open orders, at the reference price.

    Raises PlanningError when the symbol is held or has pending orders but cannot be priced.
    """
    price = _price(symbol, quotes, positions.get(symbol))
    qty = held.get(symbol, Decimal(0)) + _pending_qty(symbol, pending)
    if price is None and qty != 0:
        raise PlanningError(f"{symbol}: held or pending but no quote or valuation to price it")
    asset = assets.get(symbol)
    fractionable = asset.fractionable if asset is not None else False
    return Exposure(
        symbol=symbol,
        held_qty=held.get(symbol, Decimal(0)),
        value=qty * price if price is not None else Decimal(0),
        price=price,
        whole_shares=not (allocation.options.fractional and fractionable),
    )


def _pending_qty(symbol: str, orders: Iterable[BrokerOrder]) -> Decimal:
    total = Decimal(0)
    for order in orders:
        if order.qty is None:
            # Notional orders carry no quantity; their size is unknown here, so log it.
            logger.warning(
                "open notional order ignored", extra={"symbol": symbol, "order_id": order.id}
            )
            continue
        remaining = max(Decimal(0), order.qty - order.filled_qty)
        total += remaining if order.side is Side.BUY else -remaining
    return total


def _plan(
    allocation: TargetAllocation, items: tuple[PlanItem, ...], equity: Decimal, correlation: str
) -> RebalancePlan:
    options = allocation.options
    return RebalancePlan(
        plan_id=allocation.derived_plan_id(),
        correlation_id=correlation,
        timestamp=allocation.scheduled_time,
        items=items,
        total_portfolio_value=equity,
        total_trade_value=sum((abs(i.trade_amount) for i in items), Decimal(0)),
        max_drift_tolerance=options.max_drift_tolerance,
        execution_urgency=options.execution_urgency,
        metadata={
            "source": "schedule",
            "schedule_name": allocation.schedule_name,
            "targets": {s: str(w) for s, w in allocation.targets.items()},
            "cash_reserve": str(options.cash_reserve),
            "liquidate_unlisted": options.liquidate_unlisted,
            "fractional": options.fractional,
        },
    )
