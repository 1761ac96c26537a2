"""The order-working policy plug-point (SPEC §4.5).

When a decision is due the working loop asks the item's policy what order it should have live
for the item's remaining quantity, then makes it so: keep the live order, re-peg it (replace
when allowed, else cancel and re-send after the cancel is final), cross, or stand aside. The
policy also says when it next wants to be asked (``next_decision_s``). Policies are pure: they
see values, never the broker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Protocol

from rebalance_executor.domain.broker import BrokerOrder, OrderType, Quote, Side
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.result import Reason
from rebalance_executor.executor.policies.activity import Activity


class UnsupportedPolicyError(ValueError):
    """The configured execution policy is not implemented."""


class DesiredKind(StrEnum):
    NONE = "none"  # stand aside: no order live (a live one is cancelled)
    MARKET = "market"
    LIMIT = "limit"
    KEEP = "keep"  # hold whatever is live, send nothing new (e.g. the quote is stale)
    STOP = "stop"  # stop working the item for ``reason``: cancel what is live, never re-send


@dataclass(frozen=True)
class Desired:
    """The order a policy wants live for the item's remainder."""

    kind: DesiredKind
    limit_price: Decimal | None = None
    reason: Reason | None = None
    detail: str | None = None

    @property
    def sends(self) -> bool:
        """True when this asks for an order to be live (a new one is sent if none is)."""
        return self.kind is DesiredKind.MARKET or self.kind is DesiredKind.LIMIT

    def matches(self, order: BrokerOrder) -> bool:
        """True when ``order`` already is what the policy wants (no action needed)."""
        if self.kind is DesiredKind.KEEP:
            return True
        if self.kind is DesiredKind.MARKET:
            return order.type is OrderType.MARKET
        if self.kind is DesiredKind.LIMIT:
            return order.type is OrderType.LIMIT and order.limit_price == self.limit_price
        return False


MARKET = Desired(DesiredKind.MARKET)
NOTHING = Desired(DesiredKind.NONE)
KEEP = Desired(DesiredKind.KEEP)


def stop(reason: Reason, detail: str) -> Desired:
    """Stop working the item (live orders cancelled, remainder reported with ``reason``)."""
    return Desired(DesiredKind.STOP, reason=reason, detail=detail)


@dataclass(frozen=True)
class PolicyInput:
    """What a policy may look at for one item on one tick."""

    symbol: str
    side: Side
    remaining_qty: Decimal
    quote: Quote | None
    arrival_quote: Quote | None
    elapsed_fraction: float
    seconds_left: float
    live_order: BrokerOrder | None
    live_order_age_s: float | None
    repegs: int
    # The clock's "now" (quote staleness) and the length of the phase's working window in
    # seconds (schedules compress to fit it); None when the caller does not know them.
    now: datetime | None = None
    window_s: float | None = None
    # The item's reference price from sizing (quote mid or checked trade, SPEC §4.4): anchors
    # the collar when the arrival quote is not two-sided, and stands in for a missing quote side.
    reference: Decimal | None = None
    # What the symbol's recent bars showed when the phase began (None: not read, or too few).
    activity: Activity | None = None

    @property
    def elapsed_s(self) -> float:
        """Seconds since the working window opened (0 when the window length is unknown)."""
        return 0.0 if self.window_s is None else self.window_s * self.elapsed_fraction


class OrderPolicy(Protocol):
    """Decides the order an item should have live, and when it next needs deciding.

    The working loop calls ``decide`` only when ``next_decision_s`` (asked right after each
    decision, on the same input with the resulting live order) says it is due, or when the item's
    orders changed (a fill, a cancel, a replace seen in a listing).
    """

    @property
    def name(self) -> str: ...

    @property
    def uses_live_quotes(self) -> bool:
        """Whether the loop must fetch quotes every tick for this policy."""
        ...

    def recent_bars_minutes(self, config: ExecutionConfig, quote: Quote | None) -> int:
        """Minutes of 1-minute bars to read before trading an item whose sizing quote is
        ``quote``, for ``PolicyInput.activity`` (the loop reads them for all such items in one
        request); 0 = none."""
        ...

    def decide(self, state: PolicyInput, config: ExecutionConfig) -> Desired: ...

    def next_decision_s(self, state: PolicyInput, config: ExecutionConfig) -> float | None:
        """Seconds from now until decide() may want a different order (the loop then fetches a
        fresh quote and calls decide); 0.0 = decide now; None = nothing scheduled while the live
        order stands (only a fill or cancel changes anything)."""
        ...


def tick_size(price: Decimal) -> Decimal:
    """US equity tick: $0.01 at or above $1, $0.0001 below."""
    return Decimal("0.01") if price >= 1 else Decimal("0.0001")


def round_to_tick(price: Decimal, side: Side) -> Decimal:
    """Round a limit price to the tick, never more aggressive than asked (buys down, sells up)."""
    tick = tick_size(price)
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    return (price / tick).quantize(Decimal(1), rounding=rounding) * tick
