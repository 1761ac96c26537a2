"""From sized items to working states; buy sizing against fresh buying power (SPEC §4.3-§4.4)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from rebalance_executor.domain.broker import Asset, Quote, Side
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import Action, PlanItem
from rebalance_executor.domain.result import ItemReference, Reason
from rebalance_executor.executor.reconcile import PlanOrders
from rebalance_executor.executor.sizing import Sized, buy_cost, round_qty, scale_factor, size_item
from rebalance_executor.executor.state import ItemState


def new_state(
    index: int, item: PlanItem, sized: Sized, asset: Asset, found: PlanOrders
) -> ItemState:
    """Working state for a sized item, carrying every order earlier attempts left."""
    assert sized.ref_price is not None  # sized items without a reason always have a price
    orders = found.of(index)
    return ItemState(
        index=index,
        item=item,
        side=Side.BUY if item.action is Action.BUY else Side.SELL,
        fractionable=asset.fractionable,
        planned_qty=sized.planned_qty,
        target_qty=sized.planned_qty,
        ref_price=sized.ref_price,
        quote=sized.quote,
        next_seq=found.next_seq.get(index, 0),
        orders={o.id: o for o in orders},
        prior_order_ids=frozenset(o.id for o in orders),
    )


def block(state: ItemState, reason: Reason, detail: str) -> None:
    """Stop an item before it is worked (its earlier fills still count)."""
    state.note_reason(reason, detail)
    state.target_qty = state.filled_qty
    state.done = not state.live_orders


@dataclasses.dataclass(frozen=True)
class BuySizing:
    sized: dict[int, Sized]
    factor: Decimal
    budget: Decimal
    cost: Decimal


def size_buys(
    items: Mapping[int, PlanItem],
    *,
    assets: Mapping[str, Asset],
    quotes: Mapping[str, Quote],
    references: Mapping[str, ItemReference],
    found: PlanOrders,
    buying_power: Decimal,
    now: datetime,
    config: ExecutionConfig,
) -> BuySizing:
    """Size buys on fresh references (quote mid, else a checked trade); scale them down
    proportionally to fit buying power - reserve."""
    sized = {
        i: size_item(
            item,
            asset=assets.get(item.symbol),
            position=None,
            quote=quotes.get(item.symbol),
            prior=found.prior(i),
            now=now,
            config=config,
            reference=references.get(item.symbol),
        )
        for i, item in items.items()
    }
    to_send: dict[int, Decimal] = {}
    costs: list[Decimal] = []
    for i, s in sized.items():
        if s.reason is None:
            prior = found.prior(i)
            to_send[i] = max(Decimal(0), s.planned_qty - prior.filled_qty - prior.live_unfilled)
            costs.append(buy_cost(to_send[i], s.quote, reference=s.ref_price))
    budget = buying_power - config.cash_reserve
    factor = scale_factor(costs, budget)
    return BuySizing(sized, factor, budget, sum(costs, Decimal(0)))


def apply_scale(state: ItemState, sizing: BuySizing, found: PlanOrders) -> None:
    """Cut a buy's target by the plan-wide factor and record the shortfall."""
    if sizing.factor >= 1:
        return
    prior = found.prior(state.index)
    to_send = max(Decimal(0), state.planned_qty - prior.filled_qty - prior.live_unfilled)
    scaled = round_qty(to_send * sizing.factor, state.fractionable)
    state.target_qty = prior.filled_qty + prior.live_unfilled + scaled
    shortfall = (to_send - scaled) * state.ref_price
    state.note_reason(
        Reason.BUYING_POWER,
        f"buys scaled by {sizing.factor:.4f} to fit buying power less reserve "
        f"{sizing.budget:.2f} (needed {sizing.cost:.2f}); shortfall {shortfall:.2f}",
    )
