"""Simulated orders and the validation Alpaca applies when one is submitted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from alpaca_sim.errors import BAD_REQUEST, UNPROCESSABLE, ApiError, invalid
from alpaca_sim.scenario import SymbolSpec

# Alpaca's statuses (alpaca-py 0.44 OrderStatus). FILLABLE orders are worked by the market; every
# OPEN one is live (listed as open, reserves buying power); the rest are terminal.
FILLABLE_STATUSES = frozenset(
    {"new", "partially_filled", "pending_cancel", "pending_replace", "stopped"}
)
OPEN_STATUSES = FILLABLE_STATUSES | frozenset(
    {
        "accepted",
        "pending_new",
        "accepted_for_bidding",
        "held",
        "pending_review",
        "suspended",
        "done_for_day",
    }
)
TERMINAL_STATUSES = frozenset(
    {"filled", "canceled", "expired", "replaced", "rejected", "calculated"}
)
ALL_STATUSES = OPEN_STATUSES | TERMINAL_STATUSES
TIME_IN_FORCE = frozenset({"day", "gtc", "ioc", "fok", "opg", "cls"})
QTY_PRECISION = Decimal("0.000000001")
MAX_CLIENT_ORDER_ID = 128
MAX_AMOUNT = Decimal("1e12")


@dataclass
class SimOrder:
    """One order and its fills so far. Mutated only by the engine, under its lock."""

    id: str
    client_order_id: str
    api_key: str
    asset_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    created_at: datetime
    seq: int
    placed_step: int
    reserve_price: Decimal
    status: str = "pending_new"
    filled_qty: Decimal = Decimal(0)
    filled_value: Decimal = Decimal(0)
    updated_at: datetime | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    failed_at: datetime | None = None
    # the order a pending replace will put in this one's place (set while ``pending_replace``)
    replacement: str | None = None
    taker_pending: bool = True
    # shares ahead of this order in its price level's queue (matching.py); None until it rests
    queue_ahead: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_fillable(self) -> bool:
        return self.status in FILLABLE_STATUSES

    @property
    def filled_avg_price(self) -> Decimal | None:
        if self.filled_qty == 0:
            return None
        return self.filled_value / self.filled_qty

    @property
    def remaining_qty(self) -> Decimal | None:
        """Shares still to fill; None for a notional order (its remainder is in dollars)."""
        if self.qty is None:
            return None
        return self.qty - self.filled_qty

    @property
    def remaining_notional(self) -> Decimal:
        return (self.notional or Decimal(0)) - self.filled_value


@dataclass(frozen=True)
class NewOrder:
    """A validated order request."""

    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    client_order_id: str | None


def read_decimal(body: dict[str, Any], key: str) -> Decimal | None:
    """``body[key]`` as a finite Decimal of sane magnitude (< 1e12), None when absent.

    Raises ApiError 422 for anything else (bools, lists, NaN, 1e400...).
    """
    raw = body.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal | float):
        raise invalid(f"invalid {key}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise invalid(f"invalid {key}") from exc
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise invalid(f"invalid {key}")
    return value


def _choice(body: dict[str, Any], key: str, allowed: frozenset[str], default: str | None) -> str:
    raw = body.get(key, default)
    if not isinstance(raw, str) or raw.lower() not in allowed:
        raise invalid(f"invalid {key}: {raw!r}")
    return raw.lower()


def check_price_increment(price: Decimal, name: str = "limit_price") -> None:
    """Alpaca rejects sub-penny prices at or above $1 (and beyond 4 decimals below $1) with
    422 / 42210000."""
    places = 2 if price >= 1 else 4
    if price != price.quantize(Decimal(1).scaleb(-places)):
        message = "sub-penny increment does not fulfill minimum pricing criteria"
        raise ApiError(422, UNPROCESSABLE, f"invalid {name} {price}. {message}")


def parse_new_order(body: dict[str, Any], assets: dict[str, SymbolSpec]) -> NewOrder:
    """Validate an order body as Alpaca would.

    Raises ApiError 422/40010001 for: untradable symbol, bad side/type/tif, missing qty and
    notional, non-positive amounts, fractional or notional on a non-fractionable asset or a
    non-DAY order, a limit order without a limit price; 422/42210000 for an unknown symbol or a
    sub-penny limit price; 400/40010000 for qty and notional together.
    """
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise invalid("symbol is required")
    symbol = symbol.upper()
    spec = assets.get(symbol)
    if spec is None:
        raise ApiError(422, UNPROCESSABLE, f'asset "{symbol}" not found')
    if not spec.tradable:
        raise invalid(f"asset {symbol} is not tradable")
    side = _choice(body, "side", frozenset({"buy", "sell"}), None)
    order_type = _choice(body, "type", frozenset({"market", "limit"}), None)
    tif = _choice(body, "time_in_force", TIME_IN_FORCE, None)
    order_class = body.get("order_class", "simple")
    if order_class not in ("simple", "", None):
        raise invalid(f"order_class {order_class!r} is not supported")
    qty = read_decimal(body, "qty")
    notional = read_decimal(body, "notional")
    limit_price = read_decimal(body, "limit_price")
    _check_amounts(
        qty=qty, notional=notional, order_type=order_type, tif=tif, spec=spec, symbol=symbol
    )
    if order_type == "limit":
        if limit_price is None:
            raise invalid("limit_price is required for limit orders")
        if limit_price <= 0:
            raise invalid("limit_price must be > 0")
        check_price_increment(limit_price)
    elif limit_price is not None:
        raise invalid("limit_price must not be set for market orders")
    client_order_id = body.get("client_order_id")
    if client_order_id is not None:
        if not isinstance(client_order_id, str) or not client_order_id:
            raise invalid("invalid client_order_id")
        if len(client_order_id) > MAX_CLIENT_ORDER_ID:
            raise invalid("client_order_id must be no more than 128 characters")
    return NewOrder(symbol, side, order_type, tif, qty, notional, limit_price, client_order_id)


def _check_amounts(
    *,
    qty: Decimal | None,
    notional: Decimal | None,
    order_type: str,
    tif: str,
    spec: SymbolSpec,
    symbol: str,
) -> None:
    if qty is None and notional is None:
        raise invalid("qty or notional is required")
    if qty is not None and notional is not None:
        raise ApiError(400, BAD_REQUEST, "only one of qty or notional can be specified")
    if qty is not None:
        if qty <= 0:
            raise invalid("qty must be > 0")
        if qty != qty.quantize(QTY_PRECISION):
            raise invalid("qty must have at most 9 decimal places")
        fractional = qty != qty.to_integral_value()
    else:
        assert notional is not None  # narrowed: exactly one of qty/notional is set
        if notional < 1:
            raise invalid("notional must be >= 1")
        if notional != notional.quantize(Decimal("0.01")):
            raise invalid("notional must have at most 2 decimal places")
        if order_type != "market":
            raise invalid("notional orders must be market orders")
        fractional = True
    if fractional and not spec.fractionable:
        raise invalid(
            f"fractional orders are not supported for {symbol}: asset is not fractionable"
        )
    if fractional and tif != "day":
        raise invalid("fractional orders must be DAY orders")
