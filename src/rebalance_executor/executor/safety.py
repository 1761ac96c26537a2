"""Safety caps that need quotes and equity (SPEC §6): checked after sizing, before any order."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from rebalance_executor.domain.broker import AccountSnapshot
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.executor.reconcile import PlanOrders
from rebalance_executor.executor.sizing import Sized


def cap_violation(
    sized: Mapping[int, Sized],
    symbols: Mapping[int, str],
    found: PlanOrders,
    account: AccountSnapshot,
    config: ExecutionConfig,
) -> str | None:
    """A sentence naming the violated cap, or None. Values what is still to be sent, at the
    reference price, so a re-run of a half-done plan is judged on its remainder."""
    per_item: dict[int, Decimal] = {}
    for index, s in sized.items():
        if s.reason is not None or s.ref_price is None:
            continue
        prior = found.prior(index)
        remaining = s.planned_qty - prior.filled_qty - prior.live_unfilled
        per_item[index] = max(Decimal(0), remaining) * s.ref_price
    for index, notional in sorted(per_item.items()):
        if config.max_order_notional is not None and notional > config.max_order_notional:
            return (
                f"MAX_ORDER_NOTIONAL: {symbols[index]} order of {notional:.2f} exceeds "
                f"{config.max_order_notional}"
            )
    total = sum(per_item.values(), Decimal(0))
    if config.max_plan_notional is not None and total > config.max_plan_notional:
        return f"MAX_PLAN_NOTIONAL: plan notional {total:.2f} exceeds {config.max_plan_notional}"
    fraction = config.max_plan_equity_fraction
    if fraction is not None and total > fraction * account.equity:
        return (
            f"MAX_PLAN_EQUITY_FRACTION: plan notional {total:.2f} exceeds {fraction} of "
            f"equity {account.equity}"
        )
    return None
