"""Pure arithmetic of §4.9: from current exposure and target weights to plan items.

Rules (documented decisions):
- investable equity = ``equity - options.cash_reserve`` (never negative); each target's value is
  ``weight * investable``; the unallocated weight stays in cash;
- current value = position value + pending open orders (buys add, sells subtract), so a tick
  never re-buys what an open order is already buying;
- drift is ``|target_value - current_value| / equity``; at or below ``max_drift_tolerance`` the
  symbol is a HOLD. A held symbol whose target is 0 (listed at 0, or unlisted with
  ``liquidate_unlisted``) is a liquidation regardless of drift — the owner asked for none;
- whole shares when ``options.fractional`` is false or the asset is not fractionable: the
  dollar amount is floored to a whole number of shares at the reference price;
- amounts are cut toward zero to cents; below ``min_trade_notional`` the symbol is a HOLD.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal

from pydantic import BaseModel, ConfigDict

from rebalance_executor.domain.allocation import TargetAllocation
from rebalance_executor.domain.plan import Action, PlanItem

CENT = Decimal("0.01")
WEIGHT_QUANTUM = Decimal("0.000001")


class Exposure(BaseModel):
    """One symbol's current state, already valued. ``price`` is ``None`` when unknown."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    held_qty: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    price: Decimal | None = None
    whole_shares: bool = False


def _round_amount(diff: Decimal, exposure: Exposure) -> Decimal:
    """Signed dollar amount, whole-share floored when required, cut toward zero to cents."""
    if exposure.whole_shares and exposure.price is not None and exposure.price > 0:
        shares = (abs(diff) / exposure.price).to_integral_value(rounding=ROUND_DOWN)
        diff = shares * exposure.price * (1 if diff > 0 else -1)
    return diff.quantize(CENT, rounding=ROUND_DOWN)


def _weight(value: Decimal, equity: Decimal, low: Decimal = Decimal(0)) -> Decimal | None:
    """``value / equity``; ``None`` outside [low, 1] (margin or short books) as the plan's
    weight fields only admit that range and the dollar values carry the full story."""
    weight = (value / equity).quantize(WEIGHT_QUANTUM)
    return weight if low <= weight <= 1 else None


def _item(
    symbol: str,
    target_weight: Decimal,
    target_value: Decimal,
    exposure: Exposure,
    *,
    equity: Decimal,
    allocation: TargetAllocation,
) -> PlanItem:
    options = allocation.options
    current_value = exposure.value
    diff = target_value - current_value
    liquidation = target_weight == 0 and exposure.held_qty > 0
    amount = Decimal(0)
    if liquidation:
        # The executor sells exactly the held quantity; the amount is informative.
        amount = -(current_value.quantize(CENT, rounding=ROUND_DOWN))
    elif abs(diff) / equity > options.max_drift_tolerance:
        amount = _round_amount(diff, exposure)
    if abs(amount) < options.min_trade_notional or amount == 0:
        amount = Decimal(0)
    action = Action.HOLD if amount == 0 else (Action.BUY if amount > 0 else Action.SELL)
    return PlanItem(
        symbol=symbol,
        action=action,
        trade_amount=amount,
        target_weight=target_weight,
        current_weight=_weight(current_value, equity),
        target_value=target_value.quantize(CENT, rounding=ROUND_DOWN),
        current_value=current_value.quantize(CENT, rounding=ROUND_DOWN),
        weight_diff=_weight(target_value - current_value, equity, low=Decimal(-1)),
        priority=2 if action is Action.SELL else 3,
    )


def planned_symbols(allocation: TargetAllocation, held: Mapping[str, Decimal]) -> list[str]:
    """Targets in payload order, then held-but-unlisted symbols (sorted) when liquidating."""
    symbols = list(allocation.targets)
    if allocation.options.liquidate_unlisted:
        symbols += sorted(s for s, qty in held.items() if qty > 0 and s not in allocation.targets)
    return symbols


def compute_items(
    allocation: TargetAllocation, equity: Decimal, exposures: Mapping[str, Exposure]
) -> tuple[PlanItem, ...]:
    """Plan items for every target (and unlisted holding when asked), HOLD when nothing to do.

    Raises ValueError when ``equity`` is not positive (weights would be meaningless).
    """
    if equity <= 0:
        raise ValueError(f"equity must be positive, got {equity}")
    investable = max(Decimal(0), equity - allocation.options.cash_reserve)
    held = {s: e.held_qty for s, e in exposures.items()}
    items = []
    for symbol in planned_symbols(allocation, held):
        weight = allocation.targets.get(symbol, Decimal(0))
        exposure = exposures.get(symbol, Exposure(symbol=symbol))
        items.append(
            _item(
                symbol, weight, weight * investable, exposure, equity=equity, allocation=allocation
            )
        )
    return tuple(items)


def fit_buys(
    items: tuple[PlanItem, ...],
    exposures: Mapping[str, Exposure],
    *,
    spendable: Decimal,
    margin: Decimal,
    min_trade: Decimal,
) -> tuple[tuple[PlanItem, ...], Decimal]:
    """Scale buys so the plan is affordable; returns the items and the factor applied (<= 1).

    Affordable means ``sum(buys) * (1 + margin) <= spendable + sum(sells)``, where
    ``spendable`` is today's cash less reserves and ``margin`` what the broker reserves above
    the reference price (Alpaca holds market buys at ask + 3%). Without this, a fully invested
    target would always end PARTIAL with a small BUYING_POWER shortfall. Every buy is cut by the
    same factor (relative weights stay closest to the targets); a cut buy below ``min_trade``
    becomes a HOLD.
    """
    buys = sum((i.trade_amount for i in items if i.action is Action.BUY), Decimal(0))
    sells = sum((-i.trade_amount for i in items if i.action is Action.SELL), Decimal(0))
    if buys == 0:
        return items, Decimal(1)
    budget = max(Decimal(0), spendable + sells)
    needed = buys * (1 + margin)
    if needed <= budget:
        return items, Decimal(1)
    factor = budget / needed
    fitted = tuple(
        _scaled(item, factor, exposures.get(item.symbol), min_trade)
        if item.action is Action.BUY
        else item
        for item in items
    )
    return fitted, factor


def _scaled(
    item: PlanItem, factor: Decimal, exposure: Exposure | None, min_trade: Decimal
) -> PlanItem:
    amount = _round_amount(item.trade_amount * factor, exposure or Exposure(symbol=item.symbol))
    if amount <= 0 or amount < min_trade:
        return item.model_copy(update={"action": Action.HOLD, "trade_amount": Decimal(0)})
    return item.model_copy(update={"trade_amount": amount})


def snap_to_own_fills(
    items: tuple[PlanItem, ...],
    exposures: Mapping[str, Exposure],
    own_filled_qty: Mapping[str, Decimal],
) -> tuple[PlanItem, ...]:
    """On a retried tick, pin an item its earlier attempt already (nearly) completed.

    Re-planning values the same trade at a slightly moved price; without this the executor
    would top up a completed item by a few dollars. An item whose amount is within the
    completion tolerance of SPEC §3.3 (max of $1 and 0.5%) of what this plan already filled,
    same direction, is re-stated as exactly the filled quantity at today's price, so the
    executor's reconciliation finds nothing left to send.
    """
    return tuple(
        _snap(item, own_filled_qty.get(item.symbol, Decimal(0)), exposures.get(item.symbol))
        for item in items
    )


def _snap(item: PlanItem, filled: Decimal, exposure: Exposure | None) -> PlanItem:
    price = exposure.price if exposure is not None else None
    if item.action is Action.HOLD or item.is_liquidation or filled == 0 or price is None:
        return item
    done = (filled * price).quantize(CENT, rounding=ROUND_DOWN)
    tolerance = max(Decimal(1), abs(item.trade_amount) * Decimal("0.005"))
    same_side = (done > 0) == (item.trade_amount > 0)
    if done == 0 or not same_side or abs(item.trade_amount - done) > tolerance:
        return item
    return item.model_copy(update={"trade_amount": done})
