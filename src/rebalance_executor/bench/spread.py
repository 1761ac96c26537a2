"""The arrival half-spread (SPEC §8 ``half_spread_bps``) and savings measured in it.

Per item, from the NBBO (the simulator's quote path, what orders fill against) at the item's
first order: half-spread ``h = (ask - bid) / 2 / mid x 10⁴`` bps and the spread in ticks
``(ask - bid) / tick``. Over items and seeds both are weighted by filled notional, like the
slippage, so a saving in bps divided by ``h`` is the fraction of the half-spread saved.

A saving against a baseline is the paired per-seed difference turned around: ``baseline -
policy`` slippage (positive = the policy is cheaper); its fraction and 95 % interval are the
paired mean and interval divided by the policy's own pooled arrival half-spread (the spread it
faced; a market order pays about ``h``, a fill at the near touch earns about ``h``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from alpaca_sim.market import QuoteTick, tick_size
from rebalance_executor.bench.paired import PairedDiff

BPS: Final = Decimal(10_000)
ZERO: Final = Decimal(0)


class ArrivalSpread(Protocol):
    """What the aggregation needs from an item (bench.metrics.ItemMeasure has it)."""

    @property
    def filled_notional(self) -> Decimal: ...

    @property
    def arrival_half_spread_bps(self) -> Decimal | None: ...

    @property
    def arrival_spread_ticks(self) -> Decimal | None: ...


def half_spread_bps(quote: QuoteTick | None) -> Decimal | None:
    """Half the quoted spread in bps of the mid; None without a two-sided, uncrossed quote."""
    if quote is None or quote.bid <= 0 or quote.ask <= quote.bid:
        return None
    return (quote.ask - quote.bid) / 2 / quote.mid * BPS


def spread_ticks(quote: QuoteTick | None) -> Decimal | None:
    """The quoted spread in ticks of the bid's price band; None like :func:`half_spread_bps`."""
    if quote is None or quote.bid <= 0 or quote.ask <= quote.bid:
        return None
    return (quote.ask - quote.bid) / tick_size(quote.bid)


def weighted_half_spread(items: Iterable[ArrivalSpread]) -> Decimal | None:
    """Arrival half-spread (bps) weighted by filled notional; None when nothing filled."""
    return _weighted(items, lambda i: i.arrival_half_spread_bps)


def weighted_spread_ticks(items: Iterable[ArrivalSpread]) -> Decimal | None:
    """Arrival spread in ticks weighted by filled notional; None when nothing filled."""
    return _weighted(items, lambda i: i.arrival_spread_ticks)


def _weighted(
    items: Iterable[ArrivalSpread], pick: Callable[[ArrivalSpread], Decimal | None]
) -> Decimal | None:
    num, den = ZERO, ZERO
    for item in items:
        value = pick(item)
        if value is not None and item.filled_notional > 0:
            num += value * item.filled_notional
            den += item.filled_notional
    return num / den if den > 0 else None


@dataclass(frozen=True)
class HalfSpreadSaving:
    """A policy's saving against one baseline, in bps and as a fraction of its half-spread."""

    saving_bps: Decimal  # mean over seeds of (baseline - policy) slippage; + = policy cheaper
    fraction: Decimal  # saving_bps / half_spread_bps
    ci95: tuple[Decimal, Decimal] | None  # the paired 95 % interval as fractions (None n < 2)
    n: int


def saving(diff: PairedDiff | None, half_spread: Decimal | None) -> HalfSpreadSaving | None:
    """The saving from the paired difference ``policy - baseline``; None when either is missing
    or the half-spread is not positive (nothing to measure the saving in)."""
    if diff is None or half_spread is None or half_spread <= 0:
        return None
    ci = diff.ci95_bps
    return HalfSpreadSaving(
        saving_bps=-diff.mean_bps,
        fraction=-diff.mean_bps / half_spread,
        ci95=None if ci is None else (-ci[1] / half_spread, -ci[0] / half_spread),
        n=diff.n,
    )
