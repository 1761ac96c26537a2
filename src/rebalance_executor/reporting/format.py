"""Formatting of result values for people: money, quantities, prices, basis points.

Shared by the terminal and HTML reports so both show the same numbers the same way.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from rebalance_executor.domain.broker import Side
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ExecutionResult, ItemResult

DASH = "—"
_CENT = Decimal("0.01")
_SUB_DOLLAR_TICK = Decimal("0.0001")


def money(value: Decimal | None) -> str:
    """``$1,234.56``; negative values keep their sign; ``None`` is a dash."""
    if value is None:
        return DASH
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value).quantize(_CENT, ROUND_HALF_EVEN):,}"


def price(value: Decimal | None) -> str:
    """A price at its tick: cents at or above $1, four decimals below (SPEC §4.5)."""
    if value is None:
        return DASH
    tick = _CENT if abs(value) >= 1 else _SUB_DOLLAR_TICK
    return f"{value.quantize(tick, ROUND_HALF_EVEN):,}"


def avg_price(value: Decimal | None) -> str:
    """An average fill price: up to four decimals (averages fall between ticks), at least two."""
    if value is None:
        return DASH
    text = f"{value.quantize(_SUB_DOLLAR_TICK, ROUND_HALF_EVEN):,}"
    while text.endswith("0") and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return text


def qty(value: Decimal | None) -> str:
    """A share quantity with at most 9 decimals and no trailing zeros (``12``, ``0.5``)."""
    if value is None:
        return DASH
    text = f"{value.quantize(Decimal('1e-9'), ROUND_HALF_EVEN):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def bps(value: Decimal | None) -> str:
    """Basis points with one decimal and an explicit sign (positive is a cost, SPEC §8)."""
    if value is None:
        return DASH
    return f"{value.quantize(Decimal('0.1'), ROUND_HALF_EVEN):+}"


def percent(fraction: Decimal | None) -> str:
    """A 0..1 fraction as a percentage with one decimal."""
    if fraction is None:
        return DASH
    return f"{(fraction * 100).quantize(Decimal('0.1'), ROUND_HALF_EVEN)}%"


def seconds(value: Decimal | None) -> str:
    if value is None:
        return DASH
    return f"{value.quantize(Decimal('0.1'), ROUND_HALF_EVEN)}s"


def timestamp(value: datetime | None) -> str:
    """UTC time to the second, ISO-like (results hold tz-aware UTC datetimes)."""
    if value is None:
        return DASH
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def side_label(item: ItemResult) -> str:
    """The item's side as the broker saw it (``buy``/``sell``), or ``hold``."""
    if item.action is Action.BUY:
        return Side.BUY.value
    if item.action is Action.SELL:
        return Side.SELL.value
    return "hold"


def reason_label(item: ItemResult) -> str:
    """``CODE: detail`` for an unfinished item, the bare code, or empty when fully done."""
    if item.reason is None:
        return item.reason_detail or ""
    if item.reason_detail:
        return f"{item.reason.value}: {item.reason_detail}"
    return item.reason.value


def fill_rate(result: ExecutionResult) -> Decimal | None:
    """Plan fill rate from the TCA block, else filled over planned notional."""
    if result.tca is not None:
        return result.tca.fill_rate
    planned = result.planned_notional
    return result.filled_notional / planned if planned else None
