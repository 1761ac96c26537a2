"""Execution-quality metrics (SPEC §8) from the simulator's ground truth, and their aggregation.

Per item: arrival mid = the simulated mid when the item's first order reached the broker (and
the arrival half-spread and spread in ticks from the same quote, bench.spread);
slippage ``= side x (avg_fill - arrival_mid) / arrival_mid x 10⁴`` (positive is a cost).
Decision slippage uses the mid when the executor started instead (it also charges the delay
before an item's first order, e.g. buys waiting for sells). Fill fraction = filled / planned
quantity (the executor's sized quantity; an item it never traded counts as 0). Each item's
slippage is also split into timing and execution by fill (bench.decompose).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from alpaca_sim.engine import FillRecord
from alpaca_sim.market import QuoteTick
from rebalance_executor.bench.decompose import (
    Decomposition,
    decompose,
    weighted_execution,
    weighted_timing,
)
from rebalance_executor.bench.spread import half_spread_bps, spread_ticks
from rebalance_executor.domain.plan import Action, PlanItem
from rebalance_executor.domain.result import ExecutionResult

BPS: Final = Decimal(10_000)
POLL_ENDPOINTS: Final = ("GET /v2/orders", "GET /v2/stocks/quotes/latest")
ZERO: Final = Decimal(0)
Fingerprint = tuple[tuple[int, str, str], ...]


@dataclass(frozen=True)
class ItemMeasure:
    """One plan item as the broker saw it. Quantities and prices are Decimal."""

    symbol: str
    side: int  # +1 buy, -1 sell
    planned_notional: Decimal  # |trade_amount|
    planned_qty: Decimal
    filled_qty: Decimal
    avg_fill: Decimal | None
    arrival_mid: Decimal | None
    decision_mid: Decimal | None
    orders: int
    # timing/execution split and fill-mechanism mix; None without fills (or when not measured)
    decomposition: Decomposition | None = None
    # the NBBO at the item's first order (bench.spread); None without orders or a usable quote
    arrival_half_spread_bps: Decimal | None = None
    arrival_spread_ticks: Decimal | None = None

    @property
    def filled_notional(self) -> Decimal:
        return self.filled_qty * self.avg_fill if self.avg_fill is not None else ZERO

    @property
    def fill_fraction(self) -> Decimal:
        if self.planned_qty <= 0:
            return ZERO
        return min(self.filled_qty / self.planned_qty, Decimal(1))

    @property
    def slippage_bps(self) -> Decimal | None:
        return _slippage(self.side, self.avg_fill, self.arrival_mid)

    @property
    def decision_slippage_bps(self) -> Decimal | None:
        return _slippage(self.side, self.avg_fill, self.decision_mid)

    @property
    def timing_bps(self) -> Decimal | None:
        return self.decomposition.timing_bps if self.decomposition else None

    @property
    def execution_bps(self) -> Decimal | None:
        return self.decomposition.execution_bps if self.decomposition else None


def _slippage(side: int, avg: Decimal | None, mid: Decimal | None) -> Decimal | None:
    if avg is None or mid is None or mid <= 0:
        return None
    return side * (avg - mid) / mid * BPS


@dataclass(frozen=True)
class RunRecord:
    """One (scenario, seed, policy) run: item measures plus plan-level counters."""

    scenario: str
    policy: str
    seed: int
    status: str
    items: tuple[ItemMeasure, ...]
    wall_s: float
    requests_total: int
    peak_requests_per_min: int
    orders_total: int
    executor_slippage_bps: Decimal | None
    fingerprint: Fingerprint
    real_s: float
    # the per-tick batch polls: one orders listing + one multi-symbol quotes call (SPEC §4.6)
    poll_requests: int = 0
    # SPEC §4.10 violations found in the simulator's records after the run (bench.invariants)
    violations: tuple[str, ...] = ()
    # items the executor did not trade for want of a usable reference price (SPEC §4.4)
    no_valid_quote: int = 0
    # mean simulated seconds from an order ending to the item's next order (bench.reaction)
    reaction_s: float | None = None

    @property
    def polls_per_min(self) -> float:
        """Poll requests per simulated minute: flat in the item count when polling is batched."""
        return self.poll_requests / (self.wall_s / 60) if self.wall_s > 0 else 0.0

    @property
    def slippage_bps(self) -> Decimal | None:
        return weighted_slippage(self.items)

    @property
    def fill_rate(self) -> Decimal:
        return fill_rate(self.items)

    @property
    def timing_bps(self) -> Decimal | None:
        return weighted_timing(self.items)

    @property
    def execution_bps(self) -> Decimal | None:
        return weighted_execution(self.items)


def weighted_slippage(items: Iterable[ItemMeasure], *, decision: bool = False) -> Decimal | None:
    """Slippage weighted by filled notional over items with fills; None when nothing filled."""
    num, den = ZERO, ZERO
    for item in items:
        slip = item.decision_slippage_bps if decision else item.slippage_bps
        if slip is not None and item.filled_notional > 0:
            num += slip * item.filled_notional
            den += item.filled_notional
    return num / den if den > 0 else None


def fill_rate(items: Iterable[ItemMeasure]) -> Decimal:
    """Planned-notional-weighted fill fraction (0-1)."""
    pairs = [(i.planned_notional, i.fill_fraction) for i in items]
    total = sum((w for w, _ in pairs), ZERO)
    return sum((w * f for w, f in pairs), ZERO) / total if total > 0 else ZERO


def percentile(values: Sequence[Decimal], q: float) -> Decimal | None:
    """Nearest-rank percentile (q in (0, 1]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def quote_at(path: Sequence[QuoteTick], at: datetime) -> QuoteTick | None:
    """The last quote at or before ``at`` (the first quote if ``at`` precedes it); None for an
    empty path. For a fill's ``at`` this is the quote the fill saw (see alpaca_sim README)."""
    if not path:
        return None
    index = bisect.bisect_right([q.at for q in path], at) - 1
    return path[max(index, 0)]


def mid_at(path: Sequence[QuoteTick], at: datetime) -> Decimal | None:
    """The mid of :func:`quote_at`."""
    quote = quote_at(path, at)
    return None if quote is None else quote.mid


def measure_items(
    items: Sequence[PlanItem],
    result: ExecutionResult,
    *,
    orders: Sequence[Mapping[str, Any]],
    fills: Sequence[FillRecord],
    quote_paths: Mapping[str, Sequence[QuoteTick]],
    decision_at: datetime,
) -> tuple[ItemMeasure, ...]:
    """Measure every BUY/SELL item from the broker's orders and fills (HOLDs are skipped)."""
    planned = {r.symbol: r.planned_qty for r in result.items}
    first_order: dict[str, datetime] = {}
    order_count: Counter[str] = Counter()
    for order in orders:
        symbol, submitted = str(order["symbol"]), datetime.fromisoformat(order["submitted_at"])
        order_count[symbol] += 1
        first_order[symbol] = min(first_order.get(symbol, submitted), submitted)
    by_symbol: dict[str, list[FillRecord]] = {}
    for fill in fills:
        by_symbol.setdefault(fill.symbol, []).append(fill)
    out = []
    for item in items:
        if item.action is Action.HOLD:
            continue
        sym, path = item.symbol, quote_paths.get(item.symbol, ())
        mine = by_symbol.get(sym, [])
        filled = sum((f.qty for f in mine), ZERO)
        side = 1 if item.action is Action.BUY else -1
        arrival_quote = quote_at(path, first_order[sym]) if sym in first_order else None
        arrival = None if arrival_quote is None else arrival_quote.mid
        at_fill = [(f, m) for f in mine if (m := mid_at(path, f.at)) is not None]
        out.append(
            ItemMeasure(
                symbol=sym,
                side=side,
                planned_notional=abs(item.trade_amount),
                planned_qty=planned.get(sym, ZERO),
                filled_qty=filled,
                avg_fill=sum((f.qty * f.price for f in mine), ZERO) / filled if filled else None,
                arrival_mid=arrival,
                decision_mid=mid_at(path, decision_at),
                orders=order_count[sym],
                decomposition=decompose(side, arrival, at_fill),
                arrival_half_spread_bps=half_spread_bps(arrival_quote),
                arrival_spread_ticks=spread_ticks(arrival_quote),
            )
        )
    return tuple(out)


def paths_identical(records: Sequence[RunRecord]) -> bool:
    """True when every pair of runs of the same seed saw the same quotes over their common steps."""
    by_seed: dict[int, list[Fingerprint]] = {}
    for record in records:
        by_seed.setdefault(record.seed, []).append(record.fingerprint)
    for prints in by_seed.values():
        for a in prints:
            for b in prints:
                horizon = min(a[-1][0] if a else -1, b[-1][0] if b else -1)
                if [t for t in a if t[0] <= horizon] != [t for t in b if t[0] <= horizon]:
                    return False
    return True
