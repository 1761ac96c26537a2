"""The broker port: what the executor needs from a brokerage, in domain types.

All methods are ``async``: the alpaca-py adapter runs the synchronous client in worker threads,
rate-limits, and retries transient failures inside the deadline. Quantities and prices are
``Decimal``; datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """Base for immutable domain values."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    """Every status of alpaca-py 0.44 ``OrderStatus`` (alpaca-behaviour.md row 6)."""

    NEW = "new"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    PENDING_REVIEW = "pending_review"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    STOPPED = "stopped"
    CALCULATED = "calculated"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    HELD = "held"
    # A status this code does not know (Alpaca added one): live, never terminal, so the
    # executor waits for it instead of sizing a remainder that may still fill.
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        """No further fills can happen on an order in this status; its filled_qty is final."""
        return self in TERMINAL_STATUSES


# `stopped` is not here: a fill is guaranteed but has not happened yet. `calculated` is: the
# order is complete for the day (only settlement is pending).
TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REPLACED,
        OrderStatus.REJECTED,
        OrderStatus.DONE_FOR_DAY,
        OrderStatus.CALCULATED,
    }
)


class AccountSnapshot(Frozen):
    """Alpaca's account fields the executor reads (TradeAccount). On a margin account (equity
    >= $2,000; every paper account) ``buying_power`` is 2-4x equity; ``cash`` and
    ``non_marginable_buying_power`` are what buys may spend without borrowing (SPEC §4.4)."""

    account_id: str
    equity: Decimal
    cash: Decimal
    buying_power: Decimal
    regt_buying_power: Decimal | None = None
    daytrading_buying_power: Decimal | None = None
    non_marginable_buying_power: Decimal | None = None
    multiplier: Decimal = Decimal(1)
    trading_blocked: bool = False
    account_blocked: bool = False
    trade_suspended_by_user: bool = False


class Position(Frozen):
    symbol: str
    qty: Decimal
    market_value: Decimal | None = None
    avg_entry_price: Decimal | None = None


class Asset(Frozen):
    symbol: str
    tradable: bool
    fractionable: bool


class MarketClock(Frozen):
    timestamp: datetime
    is_open: bool
    next_open: datetime | None = None
    next_close: datetime | None = None


class Quote(Frozen):
    symbol: str
    bid: Decimal
    ask: Decimal
    bid_size: Decimal = Decimal(0)
    ask_size: Decimal = Decimal(0)
    timestamp: datetime

    @property
    def has_bid(self) -> bool:
        """A bid price of 0 (or less) means the venue shows no bid: a missing side, not a price."""
        return self.bid > 0

    @property
    def has_ask(self) -> bool:
        """An ask price of 0 (or less) means the venue shows no ask (``iex`` often does)."""
        return self.ask > 0

    @property
    def is_two_sided(self) -> bool:
        """Both sides shown and not crossed: the only quote whose :attr:`mid` is a price."""
        return self.has_bid and self.ask > self.bid

    @property
    def mid(self) -> Decimal:
        """Midpoint; meaningful only when :attr:`is_two_sided` (callers check first)."""
        return (self.bid + self.ask) / 2

    @property
    def spread_bps(self) -> Decimal:
        """Spread relative to mid in basis points (inf-safe: callers validate bid/ask first)."""
        return (self.ask - self.bid) / self.mid * Decimal(10_000)


class Trade(Frozen):
    """The latest trade print of a symbol on the configured feed."""

    symbol: str
    price: Decimal
    size: Decimal = Decimal(0)
    timestamp: datetime


class Bar(Frozen):
    """One 1-minute OHLC bar; ``timestamp`` is the start of its minute."""

    symbol: str
    timestamp: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)


class OrderRequest(Frozen):
    symbol: str
    side: Side
    qty: Decimal = Field(gt=0)
    type: OrderType
    limit_price: Decimal | None = None
    client_order_id: str = Field(min_length=1, max_length=48)
    time_in_force: str = "day"


class BrokerOrder(Frozen):
    id: str
    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal | None
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    limit_price: Decimal | None = None
    status: OrderStatus
    submitted_at: datetime | None = None
    filled_at: datetime | None = None
    updated_at: datetime | None = None
    canceled_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None


# --- errors -------------------------------------------------------------------------------------


class BrokerError(Exception):
    """Base of every error the broker port raises."""


class BrokerUnavailableError(BrokerError):
    """Transient failure (connection, timeout, 429, 5xx) that outlived the retry budget."""


class BrokerRequestError(BrokerError):
    """The broker refused the request (4xx). ``code`` is Alpaca's error code when present."""

    def __init__(self, message: str, status: int, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class DuplicateClientOrderIdError(BrokerRequestError):
    """HTTP 422 code 40010001 "client_order_id must be unique": the order was already submitted."""


class OrderRefusedError(BrokerRequestError):
    """The broker refused this order as such (422 validation, 42210000, other 40010001
    messages): re-sending it unchanged can only be refused again."""


class InsufficientBuyingPowerError(BrokerRequestError):
    """HTTP 403 code 40310000 "insufficient buying power": the account cannot afford the order."""


class InsufficientQtyError(BrokerRequestError):
    """HTTP 403 code 40310000 "insufficient qty available for order": the position (less what
    open orders hold) is smaller than the sell."""


class WashTradeError(BrokerRequestError):
    """HTTP 403 code 40310000 "potential wash trade detected" (or its 422 42210000 variant): the
    order could cross an open opposite-side order of the account on the same symbol."""


class PatternDayTraderError(BrokerRequestError):
    """HTTP 403 code 40310100: pattern-day-trader protection refused the order."""


class OrderNotFoundError(BrokerRequestError):
    """HTTP 404 for an order id or client order id."""


class AmbiguousSubmitError(BrokerError):
    """A submit's outcome is unknown (timeout / lost response) and the lookup did not settle it."""


class BrokerAuthError(BrokerRequestError):
    """HTTP 401/403 on credentials."""


# --- the port -----------------------------------------------------------------------------------


class BrokerPort(Protocol):
    """What the executor needs from a brokerage. Every call may raise :class:`BrokerError`."""

    async def get_account(self) -> AccountSnapshot: ...

    async def get_clock(self) -> MarketClock: ...

    async def get_assets(self, symbols: Iterable[str]) -> Mapping[str, Asset]: ...

    async def get_positions(self) -> Mapping[str, Position]: ...

    async def get_latest_quotes(self, symbols: Iterable[str]) -> Mapping[str, Quote]:
        """One multi-symbol request; symbols without a quote are absent from the result."""
        ...

    async def get_latest_trades(self, symbols: Iterable[str]) -> Mapping[str, Trade]:
        """One multi-symbol request on the configured feed; symbols without a trade are absent."""
        ...

    async def get_recent_bars(
        self, symbols: Iterable[str], minutes: int
    ) -> Mapping[str, Sequence[Bar]]:
        """One multi-symbol request for the 1-minute bars of the last ``minutes`` minutes on the
        configured feed, oldest first per symbol; symbols without a bar are absent."""
        ...

    async def list_orders(
        self, *, after: datetime, symbols: Iterable[str] | None = None, open_only: bool = False
    ) -> Sequence[BrokerOrder]:
        """Every order submitted after ``after`` (paginated internally), oldest first."""
        ...

    async def get_order(self, order_id: str) -> BrokerOrder: ...

    async def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        """The order with this client order id, or ``None`` when the broker has none."""
        ...

    async def submit_order(self, request: OrderRequest) -> BrokerOrder: ...

    async def cancel_order(self, order_id: str) -> None:
        """Request cancellation; a 422 on an already-terminal order is not an error."""
        ...

    def request_count(self) -> int:
        """Broker API requests made through this port so far (for TCA)."""
        ...
