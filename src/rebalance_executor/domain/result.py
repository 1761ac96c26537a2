"""The execution result (SPEC §3.3, §8): what was done, based on broker-reported fills."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from rebalance_executor.domain.broker import OrderStatus, OrderType, Quote, Side
from rebalance_executor.domain.plan import Action, RebalancePlan

# 1.1: items carry ``reference`` (which price sized and anchored them: quote, trade or none).
# 1.2: ``streams``: what the trading and quote streams delivered and every fallback to REST.
RESULT_SCHEMA_VERSION = "1.2"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExecutionStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    SKIPPED = "SKIPPED"
    DRY_RUN = "DRY_RUN"


class ItemOutcome(StrEnum):
    FILLED = "FILLED"
    # Broker fills exceed the plan beyond the §3.3 tolerance: a safety violation, never tidied.
    OVERFILLED = "OVERFILLED"
    PARTIAL = "PARTIAL"
    NOT_FILLED = "NOT_FILLED"
    NOT_TRADED = "NOT_TRADED"
    HOLD = "HOLD"
    DRY_RUN = "DRY_RUN"


class Reason(StrEnum):
    """Why an item (or a plan) was not fully done. Stable codes: alarms and queries use them."""

    NO_VALID_QUOTE = "NO_VALID_QUOTE"
    BELOW_MIN_NOTIONAL = "BELOW_MIN_NOTIONAL"
    NOT_TRADABLE = "NOT_TRADABLE"
    NO_POSITION = "NO_POSITION"
    BUYING_POWER = "BUYING_POWER"
    INSUFFICIENT_QTY = "INSUFFICIENT_QTY"
    WASH_TRADE = "WASH_TRADE"
    PATTERN_DAY_TRADER = "PATTERN_DAY_TRADER"
    # An order found by client order id did not fit the item (symbol, side, time): not adopted.
    ADOPTION_REFUSED = "ADOPTION_REFUSED"
    # The broker said the client order id exists, but bounded look-ups never found it.
    SUBMIT_UNRESOLVED = "SUBMIT_UNRESOLVED"
    # Broker fills exceed the plan beyond tolerance (outcome OVERFILLED).
    OVERFILL = "OVERFILL"
    ORDER_CAP = "ORDER_CAP"
    DEADLINE = "DEADLINE"
    COLLAR = "COLLAR"
    KILL_SWITCH = "KILL_SWITCH"
    BROKER_REJECTED = "BROKER_REJECTED"
    BROKER_UNAVAILABLE = "BROKER_UNAVAILABLE"
    SELLS_UNFINISHED = "SELLS_UNFINISHED"
    # Early exits (SPEC §4.2, §6): why an attempt stopped before trading.
    STALE_PLAN = "STALE_PLAN"
    TIME_BUDGET = "TIME_BUDGET"
    ACCOUNT_BLOCKED = "ACCOUNT_BLOCKED"
    MARKET_CLOSED = "MARKET_CLOSED"


class PricePoint(_Frozen):
    at: datetime
    price: Decimal


class QuotePoint(_Frozen):
    """The top of book an item's working loop saw on one poll tick."""

    at: datetime
    bid: Decimal
    ask: Decimal
    mid: Decimal


class ReferenceSource(StrEnum):
    """Where an item's reference price came from (SPEC §4.4)."""

    QUOTE = "quote"  # mid of a fresh, two-sided quote within the spread limit
    TRADE = "trade"  # a fresh latest trade inside the last 1-minute bar's range (+ margin)
    NONE = "none"  # neither: the item is not traded (NO_VALID_QUOTE)


class ItemReference(_Frozen):
    """The reference price an item was sized on and its collar anchored to, and why."""

    source: ReferenceSource
    price: Decimal | None = None
    at: datetime | None = None
    # why the quote (and, for NONE, the trade) could not be used
    detail: str | None = None


class OrderRecord(_Frozen):
    """One broker order of an item, as the broker last reported it."""

    client_order_id: str
    broker_order_id: str
    side: Side
    type: OrderType
    qty: Decimal | None
    limit_prices: tuple[PricePoint, ...] = ()
    status: OrderStatus
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    replaces: str | None = None


class ItemResult(_Frozen):
    index: int
    symbol: str
    action: Action
    outcome: ItemOutcome
    reason: Reason | None = None
    reason_detail: str | None = None
    planned_notional: Decimal
    planned_qty: Decimal = Decimal(0)
    filled_qty: Decimal = Decimal(0)
    filled_notional: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    arrival_quote: Quote | None = None
    arrival_mid: Decimal | None = None
    reference: ItemReference | None = None
    slippage_bps: Decimal | None = None
    fill_rate: Decimal = Decimal(0)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    time_to_complete_s: Decimal | None = None
    orders_count: int = 0
    replaces_count: int = 0
    orders: tuple[OrderRecord, ...] = ()
    # bid/ask/mid sampled on each poll tick while the item was worked (empty for policies that
    # do not poll quotes, and for results written before this field existed)
    quote_path: tuple[QuotePoint, ...] = ()


class BudgetRecord(_Frozen):
    """The time budget and how it was spent (simulated seconds under a scaled clock)."""

    remaining_at_start_s: Decimal
    reserve_s: Decimal
    trading_window_s: Decimal
    preflight_s: Decimal = Decimal(0)
    sells_s: Decimal = Decimal(0)
    buys_s: Decimal = Decimal(0)
    wind_down_s: Decimal = Decimal(0)
    total_s: Decimal = Decimal(0)


class TcaSummary(_Frozen):
    """Plan-level transaction cost analysis (SPEC §8)."""

    policy: str
    slippage_bps: Decimal | None = None
    fill_rate: Decimal = Decimal(0)
    wall_s: Decimal = Decimal(0)
    requests_total: int = 0
    requests_per_order: Decimal | None = None
    peak_requests_per_min: int = 0


class StreamReport(_Frozen):
    """Counts of a run that followed the broker's streams (docs/executor.md "Streams"):
    updates and quotes received, and why REST was used instead or as well. ``down_ticks``:
    working ticks polled because the trading stream was down; ``confirm_listings``: listings
    made to confirm an unknown order, a gap (reconnection), a lagging update or a silent write;
    ``quote_fallbacks``: REST quote polls for symbols whose stream quote was missing or old;
    ``verify_listings``: listings checking the stream while orders rest (``silent`` counts those
    that found news the stream had not sent)."""

    updates: int = 0
    quote_updates: int = 0
    unknown_orders: int = 0
    gaps: int = 0
    lagging: int = 0
    silent: int = 0
    down_ticks: int = 0
    confirm_listings: int = 0
    quote_fallbacks: int = 0
    verify_listings: int = 0


class ExecutionResult(_Frozen):
    """The complete record of one execution attempt, stored in S3 as JSON."""

    schema_version: str = RESULT_SCHEMA_VERSION
    plan_id: str
    status: ExecutionStatus
    reason: str | None = None
    plan: RebalancePlan | None = None
    items: tuple[ItemResult, ...] = ()
    budget: BudgetRecord | None = None
    tca: TcaSummary | None = None
    # None: the run did not use the streams (STREAMS_ENABLED=false, or an early exit)
    streams: StreamReport | None = None
    started_at: datetime
    finished_at: datetime
    dry_run: bool = False

    @property
    def planned_notional(self) -> Decimal:
        return sum((abs(i.planned_notional) for i in self.items), Decimal(0))

    @property
    def filled_notional(self) -> Decimal:
        return sum((i.filled_notional for i in self.items), Decimal(0))

    @property
    def orders_submitted(self) -> int:
        return sum(i.orders_count for i in self.items)

    @property
    def items_filled(self) -> int:
        return sum(1 for i in self.items if i.outcome is ItemOutcome.FILLED)


def _cents(amount: Decimal) -> Decimal:
    """Round half-even to cents for the summary; the result document keeps exact values."""
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


class ExecutionSummary(_Frozen):
    """The handler's compact JSON response (SPEC §3.3); also what idempotency stores."""

    plan_id: str
    status: ExecutionStatus
    reason: str | None = None
    items_total: int = 0
    items_filled: int = 0
    orders_submitted: int = 0
    planned_notional: Decimal = Decimal(0)
    filled_notional: Decimal = Decimal(0)
    slippage_bps: Decimal | None = None
    result_uri: str | None = None
    attempt: int = 1

    @classmethod
    def of(cls, result: ExecutionResult, result_uri: str | None, attempt: int) -> ExecutionSummary:
        return cls(
            plan_id=result.plan_id,
            status=result.status,
            reason=result.reason,
            items_total=len(result.items),
            items_filled=result.items_filled,
            orders_submitted=result.orders_submitted,
            planned_notional=_cents(result.planned_notional),
            filled_notional=_cents(result.filled_notional),
            slippage_bps=result.tca.slippage_bps if result.tca else None,
            result_uri=result_uri,
            attempt=attempt,
        )
