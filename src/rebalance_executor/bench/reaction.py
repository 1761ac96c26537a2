"""Reaction latency from the simulator's records: how long the executor took to act on news.

For each item's orders (same symbol and side, in submission order), the gap between one order
ending at the broker (``filled_at``, else ``canceled_at``, else ``expired_at``) and the next
order's ``submitted_at``: the executor had to learn that the order was final (a listing, or a
stream update) before it could size and send the remainder. Simulated seconds; the mean over a
run's pairs (None when no item needed a second order). It is the "fill → next decision" of
issue 17 as the broker sees it: a decision that changes nothing sends nothing and leaves no trace.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

_TIME: Final = TypeAdapter(datetime)
_ENDS: Final = ("filled_at", "canceled_at", "expired_at")


def _at(order: Mapping[str, Any], key: str) -> datetime | None:
    value = order.get(key)
    if value is None:
        return None
    try:
        return _TIME.validate_python(value)
    except ValidationError:
        return None


def reaction_gaps_s(orders: Iterable[Mapping[str, Any]]) -> list[float]:
    """Seconds from each order's end to the next order of the same symbol and side
    (``orders`` oldest first, as the simulator lists them)."""
    chains: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for order in orders:
        chains[(str(order.get("symbol")), str(order.get("side")))].append(order)
    gaps: list[float] = []
    for chain in chains.values():
        for before, after in itertools.pairwise(chain):
            ended = next((t for k in _ENDS if (t := _at(before, k)) is not None), None)
            sent = _at(after, "submitted_at")
            if ended is not None and sent is not None and sent >= ended:
                gaps.append((sent - ended).total_seconds())
    return gaps


def mean_reaction_s(orders: Iterable[Mapping[str, Any]]) -> float | None:
    gaps = reaction_gaps_s(orders)
    return sum(gaps) / len(gaps) if gaps else None
