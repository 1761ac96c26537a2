"""Order entry on the engine: submit, replace, cancel, list, close positions.

Each function takes the engine lock, advances the market to now first, and raises
:class:`~alpaca_sim.errors.ApiError` with Alpaca's status and code on rejection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from alpaca_sim.accounts import SimAccount, buying_power, held_for_orders, reservation
from alpaca_sim.engine import SimEngine, asset_id
from alpaca_sim.errors import UNPROCESSABLE, ApiError, forbidden, invalid, not_found
from alpaca_sim.orders import (
    QTY_PRECISION,
    NewOrder,
    SimOrder,
    check_price_increment,
    read_decimal,
)
from alpaca_sim.orders import parse_new_order as _parse


def submit_order(engine: SimEngine, account: SimAccount, body: dict[str, Any]) -> SimOrder:
    """Validate, check buying power / available qty, accept, and match as a taker at once.

    Raises ApiError: 403 blocked account / insufficient buying power or qty, 422 invalid order
    or duplicate client_order_id (40010001).
    """
    with engine.lock:
        engine.advance()
        _check_can_trade(account)
        new = _parse(body, engine.scenario.symbols)
        order = _build(engine, account, new, replaces=None)
        _check_funds(engine, account, order, credit=Decimal(0))
        _accept(engine, order)
        return order


def _check_can_trade(account: SimAccount) -> None:
    if account.account_blocked or account.trading_blocked:
        raise forbidden("account is not authorized to trade")


def _build(engine: SimEngine, account: SimAccount, new: NewOrder, replaces: str | None) -> SimOrder:
    coid = new.client_order_id or engine.new_id()
    if (account.api_key, coid) in engine.by_client_id:
        raise invalid("client_order_id must be unique")
    quote = engine.markets[new.symbol].quote
    now = engine.clock.now()
    return SimOrder(
        id=engine.new_id(),
        client_order_id=coid,
        api_key=account.api_key,
        asset_id=asset_id(new.symbol),
        symbol=new.symbol,
        side=new.side,
        type=new.type,
        time_in_force=new.time_in_force,
        qty=new.qty,
        notional=new.notional,
        limit_price=new.limit_price,
        created_at=now,
        updated_at=now,
        seq=engine.next_seq(),
        placed_step=engine.step,
        reserve_price=quote.ask if new.side == "buy" else quote.bid,
        status="new" if engine.market_open else "accepted",
        replaces=replaces,
    )


def _check_funds(engine: SimEngine, account: SimAccount, order: SimOrder, credit: Decimal) -> None:
    """``credit`` is buying power an order being replaced gives back."""
    mine = [o for o in engine.open_orders.values() if o.api_key == account.api_key]
    if order.side == "buy":
        if reservation(order) > buying_power(account, mine) + credit:
            raise forbidden("insufficient buying power")
        return
    bid = engine.markets[order.symbol].quote.bid
    wanted = order.qty if order.qty is not None else (order.notional or Decimal(0)) / bid
    holding = account.holdings.get(order.symbol)
    owned = holding.qty if holding else Decimal(0)
    available = owned - held_for_orders(order.symbol, mine, bid) + credit
    if wanted > available:
        raise forbidden(
            f"insufficient qty available for order (requested: {wanted.normalize()}, "
            f"available: {max(available, Decimal(0)).normalize()})"
        )


def _accept(engine: SimEngine, order: SimOrder) -> None:
    engine.orders[order.id] = order
    engine.open_orders[order.id] = order
    engine.by_client_id[(order.api_key, order.client_order_id)] = order
    engine.match(order.symbol, [], engine.clock.now(), event=True)


def get_order(engine: SimEngine, account: SimAccount, order_id: str) -> SimOrder:
    """Raises ApiError 404 for an unknown id or another account's order."""
    with engine.lock:
        engine.advance()
        order = engine.orders.get(order_id)
        if order is None or order.api_key != account.api_key:
            raise not_found("order not found")
        return order


def get_by_client_id(engine: SimEngine, account: SimAccount, client_order_id: str) -> SimOrder:
    """Raises ApiError 404 when this account has no order with that client order id."""
    with engine.lock:
        engine.advance()
        order = engine.by_client_id.get((account.api_key, client_order_id))
        if order is None:
            raise not_found("order not found")
        return order


def cancel_order(engine: SimEngine, account: SimAccount, order_id: str) -> SimOrder:
    """Cancel at once. Raises 404 unknown order, 422 (42210000) when it is no longer open."""
    with engine.lock:
        order = get_order(engine, account, order_id)
        if not order.is_open:
            raise ApiError(422, UNPROCESSABLE, f'order is already in "{order.status}" state')
        engine.close_order(order, "canceled", engine.clock.now())
        return order


def cancel_all(engine: SimEngine, account: SimAccount) -> list[SimOrder]:
    with engine.lock:
        engine.advance()
        mine = [o for o in engine.open_orders.values() if o.api_key == account.api_key]
        now = engine.clock.now()
        for order in mine:
            engine.close_order(order, "canceled", now)
        return mine


def replace_order(
    engine: SimEngine, account: SimAccount, order_id: str, body: dict[str, Any]
) -> SimOrder:
    """Replace an open limit order by a new one (new id, ``replaces``); the old one becomes
    ``replaced``. ``qty`` defaults to the old order's unfilled quantity.

    Raises 404 unknown order, 422 (42210000) not open / not a limit order, 422 (40010001) bad
    fields or duplicate client_order_id, 403 insufficient buying power or qty.
    """
    with engine.lock:
        old = get_order(engine, account, order_id)
        _check_can_trade(account)
        if not old.is_open or old.type != "limit":
            raise ApiError(422, UNPROCESSABLE, "order is not replaceable")
        qty = read_decimal(body, "qty") or old.remaining_qty
        limit = read_decimal(body, "limit_price") or old.limit_price
        if qty is None or qty <= 0:
            raise invalid("qty must be > 0")
        if limit is None or limit <= 0:
            raise invalid("limit_price must be > 0")
        check_price_increment(limit)
        tif = str(body.get("time_in_force") or old.time_in_force).lower()
        coid = body.get("client_order_id")
        new = NewOrder(
            old.symbol,
            old.side,
            "limit",
            tif,
            qty,
            None,
            limit,
            coid if isinstance(coid, str) and coid else None,
        )
        order = _build(engine, account, new, replaces=old.id)
        credit = reservation(old) if old.side == "buy" else old.remaining_qty or Decimal(0)
        _check_funds(engine, account, order, credit=credit)
        engine.close_order(old, "replaced", engine.clock.now())
        old.replaced_by = order.id
        _accept(engine, order)
        return order


@dataclass(frozen=True)
class OrderQuery:
    """GET /v2/orders filters (Alpaca defaults: open, 50, desc)."""

    status: str = "open"
    limit: int = 50
    after: datetime | None = None
    until: datetime | None = None
    direction: str = "desc"
    symbols: frozenset[str] | None = None
    side: str | None = None


def list_orders(engine: SimEngine, account: SimAccount, query: OrderQuery) -> list[SimOrder]:
    """Filter by status/side/symbols and ``after < submitted_at < until``, sort, cut at limit."""
    with engine.lock:
        engine.advance()
        found = []
        for order in engine.orders.values():
            if order.api_key != account.api_key:
                continue
            if query.status == "open" and not order.is_open:
                continue
            if query.status == "closed" and order.is_open:
                continue
            if query.symbols is not None and order.symbol not in query.symbols:
                continue
            if query.side is not None and order.side != query.side:
                continue
            if query.after is not None and order.created_at <= query.after:
                continue
            if query.until is not None and order.created_at >= query.until:
                continue
            found.append(order)
        found.sort(key=lambda o: (o.created_at, o.seq), reverse=query.direction == "desc")
        return found[: query.limit]


def close_position(
    engine: SimEngine,
    account: SimAccount,
    symbol: str,
    qty: Decimal | None = None,
    percentage: Decimal | None = None,
) -> SimOrder:
    """Market-sell all (or ``qty`` / ``percentage`` of) a position.

    Raises 404 when there is no position, 403 when its shares are held by open orders.
    """
    with engine.lock:
        engine.advance()
        holding = account.holdings.get(symbol.upper())
        if holding is None:
            raise not_found("position does not exist")
        if qty is None:
            pct = percentage if percentage is not None else Decimal(100)
            qty = (holding.qty * pct / 100).quantize(QTY_PRECISION, ROUND_FLOOR)
        body = {
            "symbol": symbol.upper(),
            "qty": str(qty),
            "side": "sell",
            "type": "market",
            "time_in_force": "day",
        }
        return submit_order(engine, account, body)
