"""Order entry on the engine: submit, replace, cancel, list, close positions.

Each function takes the engine lock, advances the market to now first, and raises
:class:`~alpaca_sim.errors.ApiError` with Alpaca's status and code on rejection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from alpaca_sim import lifecycle
from alpaca_sim.accounts import PDT_MIN_EQUITY, SimAccount, held_for_orders, reservation
from alpaca_sim.engine import SimEngine, asset_id
from alpaca_sim.errors import (
    NOT_SENT_YET,
    PATTERN_DAY_TRADER,
    UNPROCESSABLE,
    ApiError,
    forbidden,
    invalid,
    not_found,
)
from alpaca_sim.orders import (
    QTY_PRECISION,
    TIME_IN_FORCE,
    NewOrder,
    SimOrder,
    check_price_increment,
    read_decimal,
)
from alpaca_sim.orders import parse_new_order as _parse
from alpaca_sim.session import trading_day

PDT_MAX_DAY_TRADES = 3  # FINRA: the 4th day trade in 5 days flags a pattern day trader
WASH_TRADE = "potential wash trade detected. use complex orders"


def submit_order(engine: SimEngine, account: SimAccount, body: dict[str, Any]) -> SimOrder:
    """Validate, check wash trades, PDT protection and buying power / available qty, store the
    order ``pending_new`` (``accepted`` while closed) and schedule its acknowledgement.

    Raises ApiError: 403/40310000 blocked account, insufficient buying power or qty, potential
    wash trade; 403/40310100 PDT protection; 422/40010001 invalid order or duplicate
    client_order_id; 422/42210000 unknown asset or sub-penny price; 400 qty and notional.
    """
    with engine.lock:
        engine.advance()
        _check_can_trade(account)
        new = _parse(body, engine.scenario.symbols)
        order = _build(engine, account, new, replaces=None)
        _check_wash_trade(engine, order, ignore=None)
        _check_pattern_day_trading(engine, account, order)
        _check_funds(engine, account, order, credit=Decimal(0))
        _store(engine, order)
        lifecycle.submit(engine, order)
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
        replaces=replaces,
    )


def _check_wash_trade(engine: SimEngine, order: SimOrder, ignore: str | None) -> None:
    """Refuse an order that could cross an open opposite-side order of the same account and
    symbol (``ignore``: the order a replacement replaces)."""
    for other in engine.open_orders.values():
        if (
            other.api_key != order.api_key
            or other.symbol != order.symbol
            or other.side == order.side
            or other.id == ignore
        ):
            continue
        buy, sell = (order, other) if order.side == "buy" else (other, order)
        if buy.limit_price is None or sell.limit_price is None:
            raise forbidden(WASH_TRADE)  # a market order crosses anything
        if buy.limit_price >= sell.limit_price:
            raise forbidden(WASH_TRADE)


def _check_pattern_day_trading(engine: SimEngine, account: SimAccount, order: SimOrder) -> None:
    """A margin account under $25,000 with 3 day trades may not open a 4th (Alpaca's PDT
    protection rejects the order rather than let the account be flagged)."""
    if not account.margin or account.daytrade_count < PDT_MAX_DAY_TRADES:
        return
    if account.cash + engine.long_value(account) >= PDT_MIN_EQUITY:
        return
    if account.would_day_trade(order.side, order.symbol, trading_day(engine.clock.now())):
        raise ApiError(
            403, PATTERN_DAY_TRADER, "trade denied due to pattern day trading protection"
        )


def _check_funds(engine: SimEngine, account: SimAccount, order: SimOrder, credit: Decimal) -> None:
    """``credit`` is buying power an order being replaced gives back."""
    mine = [o for o in engine.open_orders.values() if o.api_key == account.api_key]
    if order.side == "buy":
        if reservation(order) > engine.buying_powers(account).buying_power + credit:
            raise forbidden("insufficient buying power")
        return
    bid = engine.markets[order.symbol].quote.bid
    wanted = order.qty if order.qty is not None else (order.notional or Decimal(0)) / bid
    holding = account.holdings.get(order.symbol)
    owned = holding.qty if holding else Decimal(0)
    available = owned - held_for_orders(order.symbol, mine, bid) + credit
    if wanted > available:
        raise forbidden(
            f"insufficient qty available for order (requested: {_plain(wanted)}, "
            f"available: {_plain(max(available, Decimal(0)))})"
        )


def _plain(value: Decimal) -> str:
    """``80`` rather than ``8E+1``."""
    return format(value.normalize(), "f")


def _store(engine: SimEngine, order: SimOrder) -> None:
    engine.orders[order.id] = order
    engine.open_orders[order.id] = order
    engine.by_client_id[(order.api_key, order.client_order_id)] = order


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
    """Request a cancel (``pending_cancel``, then ``canceled``; it may still fill meanwhile).

    Raises 404 unknown order, 422 (42210000) when it is no longer open or a replace is pending.
    """
    with engine.lock:
        order = get_order(engine, account, order_id)
        if not order.is_open or order.status == "pending_replace":
            raise _already(order)
        lifecycle.cancel(engine, order)
        return order


def cancel_all(engine: SimEngine, account: SimAccount) -> list[SimOrder]:
    """Request a cancel of every open order (a pending replace's replacement is canceled,
    which ends the pair)."""
    with engine.lock:
        engine.advance()
        mine = [o for o in engine.open_orders.values() if o.api_key == account.api_key]
        for order in mine:
            if order.status != "pending_replace":
                lifecycle.cancel(engine, order)
        return mine


def _already(order: SimOrder) -> ApiError:
    return ApiError(422, UNPROCESSABLE, f'order is already in "{order.status}" state')


def replace_order(
    engine: SimEngine, account: SimAccount, order_id: str, body: dict[str, Any]
) -> SimOrder:
    """Replace an open limit order: the answer is the replacement (new id, ``replaces``,
    ``pending_new``); the old order is ``pending_replace`` until the window ends. Every omitted
    attribute is kept, the ORIGINAL qty included (Alpaca-API #165, pessimistic reading).

    Raises 404 unknown order; 422/42210000 while the order is accepted / pending_new ("isn't
    sent to exchange yet"), pending_cancel / pending_replace or closed, or not a limit order;
    403/40310000 when nothing changes, insufficient buying power or qty, or a wash trade;
    422/40010001 bad fields, a qty change of a fractional order, a duplicate client_order_id.
    """
    with engine.lock:
        old = get_order(engine, account, order_id)
        _check_can_trade(account)
        _check_replaceable(old)
        order = _build(engine, account, _replacement(old, body), replaces=old.id)
        _check_wash_trade(engine, order, ignore=old.id)
        credit = reservation(old) if old.side == "buy" else old.remaining_qty or Decimal(0)
        _check_funds(engine, account, order, credit=credit)
        _store(engine, order)
        lifecycle.replace(engine, old, order)
        return order


def _check_replaceable(old: SimOrder) -> None:
    if old.status in ("accepted", "pending_new"):
        raise ApiError(422, UNPROCESSABLE, NOT_SENT_YET)
    if not old.is_open or old.status in ("pending_cancel", "pending_replace"):
        raise _already(old)
    if old.type != "limit":
        raise ApiError(422, UNPROCESSABLE, "order is not replaceable")


def _replacement(old: SimOrder, body: dict[str, Any]) -> NewOrder:
    """The replacement request: ``body`` overrides, everything else (qty too) is the old one's."""
    qty = read_decimal(body, "qty")
    limit = read_decimal(body, "limit_price")
    raw_tif = body.get("time_in_force")
    tif = str(raw_tif).lower() if raw_tif is not None else None
    coid = body.get("client_order_id")
    changed = (
        (qty is not None and qty != old.qty)
        or (limit is not None and limit != old.limit_price)
        or (tif is not None and tif != old.time_in_force)
        or (isinstance(coid, str) and coid != "")
    )
    if not changed:
        raise forbidden("order parameters are not changed")
    if qty is not None and qty != old.qty:
        whole = old.qty is not None and old.qty == old.qty.to_integral_value()
        if not whole or qty != qty.to_integral_value():
            raise invalid("qty of a fractional order cannot be replaced")
        if qty <= 0:
            raise invalid("qty must be > 0")
    if limit is not None:
        if limit <= 0:
            raise invalid("limit_price must be > 0")
        check_price_increment(limit)
    if tif is not None and tif not in TIME_IN_FORCE:
        raise invalid(f"invalid time_in_force: {raw_tif!r}")
    return NewOrder(
        old.symbol,
        old.side,
        old.type,
        tif or old.time_in_force,
        qty if qty is not None else old.qty,
        None,
        limit if limit is not None else old.limit_price,
        coid if isinstance(coid, str) and coid else None,
    )


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
