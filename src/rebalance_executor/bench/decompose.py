"""Where slippage comes from: timing vs execution, and the fill-mechanism mix (SPEC §8 extras).

Per fill f of an item (side s, arrival mid A, fill price p_f, mid at the fill m_f — the quote
the fill saw, from the simulator's quote path):

* timing    = s x (m_f - A) / A x 10⁴: how the market moved while the order worked;
* execution = s x (p_f - m_f) / A x 10⁴: what the fill paid (+) or earned (-) against the
  market at that moment (a market order pays about half the spread).

Within an item the fills are weighted by quantity (= notional at the arrival mid), which makes
``timing + execution == slippage`` exact for the item; across items and runs every figure is
weighted by the item's filled notional, like the slippage itself, so the identity also holds
for the pooled figures. The mechanism mix allocates each item's filled notional to its fills by
quantity, so the shares sum to 1 and the mix-weighted execution by trigger equals the execution.

Reading it (the simulator's triggers, alpaca_sim README "Fill model"): ``taker`` fills pay the
far touch and the book walk (execution ≈ +half-spread or more); ``flow`` fills (opposite takers
reaching a resting limit through its queue) and ``path`` fills (the quote's path ran through the
limit) execute at the limit, on the near side of the mid, so their execution is negative (about
-half-spread at the touch) while the adverse selection of those same takers shows as timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from alpaca_sim.engine import FillRecord
from alpaca_sim.fills import TRIGGERS

BPS: Final = Decimal(10_000)
ZERO: Final = Decimal(0)


@dataclass(frozen=True)
class TriggerPart:
    """The fills of one trigger within an item: allocated filled notional, execution bps."""

    trigger: str
    notional: Decimal
    execution_bps: Decimal


@dataclass(frozen=True)
class Decomposition:
    """One item's slippage split; ``timing_bps + execution_bps`` equals its slippage."""

    timing_bps: Decimal
    execution_bps: Decimal
    by_trigger: tuple[TriggerPart, ...]  # only triggers that filled, in TRIGGERS order


class Decomposed(Protocol):
    """What the aggregations need from an item (bench.metrics.ItemMeasure has it)."""

    @property
    def filled_notional(self) -> Decimal: ...

    @property
    def decomposition(self) -> Decomposition | None: ...


def decompose(
    side: int, arrival_mid: Decimal | None, fills: Sequence[tuple[FillRecord, Decimal]]
) -> Decomposition | None:
    """Split an item's fills ``(fill, mid at the fill)``; None without fills or arrival mid.

    Raises ValueError for a fill trigger outside TRIGGERS (a simulator this bench does not know).
    """
    qty = sum((f.qty for f, _ in fills), ZERO)
    if arrival_mid is None or arrival_mid <= 0 or qty <= 0:
        return None
    notional = sum((f.qty * f.price for f, _ in fills), ZERO)
    timing, execution = ZERO, ZERO
    trig_qty: dict[str, Decimal] = {}
    trig_exec: dict[str, Decimal] = {}
    for fill, mid in fills:
        if fill.trigger not in TRIGGERS:
            raise ValueError(f"unknown fill trigger {fill.trigger!r}")
        timing += fill.qty * side * (mid - arrival_mid)
        executed = fill.qty * side * (fill.price - mid)
        execution += executed
        trig_qty[fill.trigger] = trig_qty.get(fill.trigger, ZERO) + fill.qty
        trig_exec[fill.trigger] = trig_exec.get(fill.trigger, ZERO) + executed
    scale = BPS / arrival_mid
    parts = tuple(
        TriggerPart(t, notional * trig_qty[t] / qty, trig_exec[t] / trig_qty[t] * scale)
        for t in TRIGGERS
        if trig_qty.get(t, ZERO) > 0
    )
    return Decomposition(timing / qty * scale, execution / qty * scale, parts)


def weighted_timing(items: Iterable[Decomposed]) -> Decimal | None:
    """Timing bps weighted by filled notional; None when no item has a decomposition."""
    return _weighted(items, lambda d: d.timing_bps)


def weighted_execution(items: Iterable[Decomposed]) -> Decimal | None:
    """Execution bps weighted by filled notional; None when no item has a decomposition."""
    return _weighted(items, lambda d: d.execution_bps)


def _weighted(
    items: Iterable[Decomposed], pick: Callable[[Decomposition], Decimal]
) -> Decimal | None:
    num, den = ZERO, ZERO
    for item in items:
        if item.decomposition is not None and item.filled_notional > 0:
            num += pick(item.decomposition) * item.filled_notional
            den += item.filled_notional
    return num / den if den > 0 else None


def trigger_totals(items: Iterable[Decomposed]) -> dict[str, tuple[Decimal, Decimal]]:
    """Per trigger: (allocated filled notional, notional x execution bps), summed over items."""
    totals = dict.fromkeys(TRIGGERS, (ZERO, ZERO))
    for item in items:
        for part in item.decomposition.by_trigger if item.decomposition else ():
            notional, weighted = totals[part.trigger]
            totals[part.trigger] = (
                notional + part.notional,
                weighted + part.notional * part.execution_bps,
            )
    return totals


def fill_mix(items: Iterable[Decomposed]) -> dict[str, Decimal] | None:
    """Share (0-1) of filled notional per trigger, every trigger present; None if nothing filled."""
    totals = trigger_totals(items)
    whole = sum((n for n, _ in totals.values()), ZERO)
    if whole <= 0:
        return None
    return {t: n / whole for t, (n, _) in totals.items()}


def execution_by_trigger(items: Iterable[Decomposed]) -> dict[str, Decimal | None]:
    """Notional-weighted execution bps of each trigger's fills (None for a trigger that never
    filled)."""
    return {t: (w / n if n > 0 else None) for t, (n, w) in trigger_totals(items).items()}


def mix_json(values: Mapping[str, Decimal | None] | None, places: int) -> dict[str, float | None]:
    """Round a per-trigger mapping for the JSON report (every trigger key present)."""
    source = values or {}
    return {t: None if (v := source.get(t)) is None else round(float(v), places) for t in TRIGGERS}
