"""alpaca-py models <-> domain values. The only place floats and Decimals meet (SPEC §4.6, §9)."""

from __future__ import annotations

import functools
import json
import logging
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from alpaca.common.exceptions import APIError
from alpaca.data.models import Bar as AlpacaBar
from alpaca.data.models import Quote as AlpacaQuote
from alpaca.data.models import Trade as AlpacaTrade
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.models import Asset as AlpacaAsset
from alpaca.trading.models import Clock as AlpacaClock
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import Position as AlpacaPosition
from alpaca.trading.models import TradeAccount
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from rebalance_executor.domain.broker import (
    AccountSnapshot,
    Asset,
    Bar,
    BrokerAuthError,
    BrokerError,
    BrokerOrder,
    BrokerRequestError,
    DuplicateClientOrderIdError,
    InsufficientBuyingPowerError,
    InsufficientQtyError,
    MarketClock,
    OrderNotFoundError,
    OrderRefusedError,
    OrderRequest,
    OrderStatus,
    OrderType,
    PatternDayTraderError,
    Position,
    Quote,
    Side,
    Trade,
    WashTradeError,
)

logger = logging.getLogger(__name__)

# Alpaca's error codes are overloaded; the message tells the cases apart (row 8).
VALIDATION_FAILED = 40010001
FORBIDDEN_ORDER = 40310000
PATTERN_DAY_TRADER = 40310100
DUPLICATE_MESSAGE = "client_order_id must be unique"
WASH_TRADE_MESSAGE = "wash trade"
_QTY_QUANTUM = Decimal("0.000000001")
_PRICE_QUANTUM = Decimal("0.0001")


def dec(value: object) -> Decimal:
    """Exact Decimal of an alpaca-py number (str or float); floats go through ``repr``.

    Raises ValueError when the value is not a finite number.
    """
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def opt_dec(value: object) -> Decimal | None:
    return None if value is None or value == "" else dec(value)


def qty_to_float(qty: Decimal) -> float:
    """Quantity for alpaca-py: rounded down to Alpaca's 9 decimals so we never send more."""
    return float(qty.quantize(_QTY_QUANTUM, rounding=ROUND_DOWN))


def price_to_float(price: Decimal) -> float:
    """Price for alpaca-py, rounded to 4 decimals (callers already rounded it to the tick)."""
    return float(price.quantize(_PRICE_QUANTUM))


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_stamp(value: datetime) -> datetime:
    """A market-data timestamp in UTC (never defaulted to now: that would make old data fresh)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum_value(value: object) -> str:
    return str(getattr(value, "value", value))


def order_status(value: str) -> OrderStatus:
    """The domain status; a status this code does not know is UNKNOWN (live, never terminal)."""
    try:
        return OrderStatus(value)
    except ValueError:
        _log_unknown_status(value)
        return OrderStatus.UNKNOWN


@functools.cache
def _log_unknown_status(value: str) -> None:
    """Logged once per process and status: a new Alpaca status deserves a look, not a flood."""
    logger.warning("unknown_order_status", extra={"status": value})


def order_from_json(raw: dict[str, object]) -> BrokerOrder:
    """Domain order from Alpaca's JSON; a status alpaca-py does not know maps to UNKNOWN
    (alpaca-py's model would refuse it, so it is parsed with a placeholder and restored)."""
    status = order_status(str(raw.get("status")))
    parseable = raw if status is not OrderStatus.UNKNOWN else {**raw, "status": "new"}
    order = to_order(AlpacaOrder(**parseable))
    return (
        order if status is not OrderStatus.UNKNOWN else order.model_copy(update={"status": status})
    )


def to_order(order: AlpacaOrder) -> BrokerOrder:
    """Domain order from alpaca-py's; raises ValueError on a shape the executor cannot use."""
    return BrokerOrder(
        id=str(order.id),
        client_order_id=order.client_order_id,
        symbol=order.symbol or "",
        side=Side(_enum_value(order.side)),
        type=OrderType(_enum_value(order.type or order.order_type)),
        qty=opt_dec(order.qty),
        filled_qty=opt_dec(order.filled_qty) or Decimal(0),
        filled_avg_price=opt_dec(order.filled_avg_price),
        limit_price=opt_dec(order.limit_price),
        status=order_status(_enum_value(order.status)),
        submitted_at=utc(order.submitted_at),
        filled_at=utc(order.filled_at),
        updated_at=utc(order.updated_at),
        canceled_at=utc(order.canceled_at),
        replaced_by=str(order.replaced_by) if order.replaced_by else None,
        replaces=str(order.replaces) if order.replaces else None,
    )


def to_account(account: TradeAccount) -> AccountSnapshot:
    return AccountSnapshot(
        account_id=str(account.id),
        equity=dec(account.equity or 0),
        cash=dec(account.cash or 0),
        buying_power=dec(account.buying_power or 0),
        regt_buying_power=opt_dec(account.regt_buying_power),
        daytrading_buying_power=opt_dec(account.daytrading_buying_power),
        non_marginable_buying_power=opt_dec(account.non_marginable_buying_power),
        multiplier=dec(account.multiplier or 1),
        trading_blocked=bool(account.trading_blocked),
        account_blocked=bool(account.account_blocked),
        trade_suspended_by_user=bool(account.trade_suspended_by_user),
    )


def to_clock(clock: AlpacaClock) -> MarketClock:
    return MarketClock(
        timestamp=utc(clock.timestamp) or datetime.now(UTC),
        is_open=bool(clock.is_open),
        next_open=utc(clock.next_open),
        next_close=utc(clock.next_close),
    )


def to_asset(asset: AlpacaAsset) -> Asset:
    return Asset(
        symbol=asset.symbol, tradable=bool(asset.tradable), fractionable=bool(asset.fractionable)
    )


def to_position(position: AlpacaPosition) -> Position:
    return Position(
        symbol=position.symbol,
        qty=dec(position.qty),
        market_value=opt_dec(position.market_value),
        avg_entry_price=opt_dec(position.avg_entry_price),
    )


def to_quote(symbol: str, quote: AlpacaQuote) -> Quote:
    return Quote(
        symbol=symbol,
        bid=dec(quote.bid_price),
        ask=dec(quote.ask_price),
        bid_size=dec(quote.bid_size),
        ask_size=dec(quote.ask_size),
        timestamp=_utc_stamp(quote.timestamp),
    )


def to_trade(symbol: str, trade: AlpacaTrade) -> Trade:
    return Trade(
        symbol=symbol,
        price=dec(trade.price),
        size=dec(trade.size),
        timestamp=_utc_stamp(trade.timestamp),
    )


def to_bar(symbol: str, bar: AlpacaBar) -> Bar:
    return Bar(
        symbol=symbol,
        timestamp=_utc_stamp(bar.timestamp),
        open=dec(bar.open),
        high=dec(bar.high),
        low=dec(bar.low),
        close=dec(bar.close),
        volume=dec(bar.volume),
    )


def to_alpaca_request(request: OrderRequest) -> MarketOrderRequest | LimitOrderRequest:
    """alpaca-py order request; raises ValueError for a limit order without a price."""
    common = {
        "symbol": request.symbol,
        "qty": qty_to_float(request.qty),
        "side": OrderSide.BUY if request.side is Side.BUY else OrderSide.SELL,
        "time_in_force": TimeInForce(request.time_in_force),
        "client_order_id": request.client_order_id,
    }
    if request.type is OrderType.MARKET:
        return MarketOrderRequest(**common)
    if request.limit_price is None:
        raise ValueError("a limit order needs a limit price")
    return LimitOrderRequest(**common, limit_price=price_to_float(request.limit_price))


def error_body(error: APIError) -> tuple[int | None, str]:
    """Alpaca's numeric error code and message from the response body (None, text otherwise)."""
    text = str(error)
    try:
        body = json.loads(text)
    except ValueError:
        return None, text
    if not isinstance(body, dict):
        return None, text
    code = body.get("code")
    message = body.get("message")
    return (code if isinstance(code, int) else None), (
        message if isinstance(message, str) else text
    )


def is_transient_status(status: int | None) -> bool:
    """429 and 5xx are worth retrying (with backoff); any other status is the broker's answer."""
    return status is None or status == 429 or status >= 500


def map_api_error(error: APIError) -> BrokerError:
    """Typed domain error for a non-transient alpaca-py APIError, by HTTP status, Alpaca code
    and message (codes are overloaded: alpaca-behaviour.md row 8)."""
    status = error.status_code or 0
    code, text = error_body(error)
    message = f"alpaca HTTP {status} code {code}: {text}"
    lowered = text.lower()
    if status == 403 and code == PATTERN_DAY_TRADER:
        return PatternDayTraderError(message, status, code)
    if status in (403, 422) and WASH_TRADE_MESSAGE in lowered:
        return WashTradeError(message, status, code)
    if status == 403 and code == FORBIDDEN_ORDER:
        return _forbidden_order(lowered, message, status, code)
    if status == 422 and code == VALIDATION_FAILED and DUPLICATE_MESSAGE in lowered:
        return DuplicateClientOrderIdError(message, status, code)
    if status == 422:
        return OrderRefusedError(message, status, code)
    if status in (401, 403):
        return BrokerAuthError(message, status, code)
    if status == 404:
        return OrderNotFoundError(message, status, code)
    return BrokerRequestError(message, status, code)


def _forbidden_order(lowered: str, message: str, status: int, code: int) -> BrokerRequestError:
    """403 / 40310000 means buying power, quantity or (rarely worded otherwise) a refusal."""
    if "buying power" in lowered:
        return InsufficientBuyingPowerError(message, status, code)
    if "insufficient qty" in lowered:
        return InsufficientQtyError(message, status, code)
    return OrderRefusedError(message, status, code)
