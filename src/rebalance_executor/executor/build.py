"""From sized items to working states; buy sizing against the fresh cash budget (SPEC §4.3-4.4)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from rebalance_executor.domain.broker import Asset, BrokerError, OrderType, Quote, Side
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import Action, PlanItem
from rebalance_executor.domain.result import ItemReference, Reason
from rebalance_executor.executor.context import RunContext
from rebalance_executor.executor.lifecycle import Slot, SlotEvent
from rebalance_executor.executor.preflight import Market
from rebalance_executor.executor.reconcile import PlanOrders
from rebalance_executor.executor.reference import (
    await_references,
    read_references,
    reference_wait_s,
)
from rebalance_executor.executor.sizing import (
    BuyBudget,
    Sized,
    buy_budget,
    buy_cost,
    open_buy_reservation,
    round_qty,
    scale_factor,
    size_item,
)
from rebalance_executor.executor.state import ItemState

logger = logging.getLogger(__name__)

# Open orders reserving cash are listed this far back: Alpaca's GTC orders live up to 90 days.
_OPEN_ORDERS_LOOKBACK = timedelta(days=90)


def new_state(
    index: int, item: PlanItem, sized: Sized, asset: Asset, found: PlanOrders
) -> ItemState:
    """Working state for a sized item, carrying every order earlier attempts left."""
    assert sized.ref_price is not None  # sized items without a reason always have a price
    orders = found.of(index)
    state = ItemState(
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
    )
    refused = found.refused.get(index)
    if refused is not None:
        block(state, Reason.ADOPTION_REFUSED, refused)
    return state


def block(state: ItemState, reason: Reason, detail: str) -> None:
    """Stop an item before it is worked (its earlier fills still count)."""
    state.stop(reason, detail)
    if state.slot is Slot.IDLE:
        state.fire(SlotEvent.SETTLED)


@dataclasses.dataclass(frozen=True)
class BuySizing:
    sized: dict[int, Sized]
    factor: Decimal
    budget: BuyBudget
    cost: Decimal


def size_buys(
    items: Mapping[int, PlanItem],
    *,
    assets: Mapping[str, Asset],
    quotes: Mapping[str, Quote],
    references: Mapping[str, ItemReference],
    found: PlanOrders,
    budget: BuyBudget,
    now: datetime,
    config: ExecutionConfig,
) -> BuySizing:
    """Size buys on fresh references (quote mid, else a checked trade); scale them down
    proportionally to fit the cash ``budget``."""
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
    factor = scale_factor(costs, budget.amount)
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
        f"buys scaled by {sizing.factor:.4f} to fit the buy budget {sizing.budget.amount:.2f} "
        f"= {sizing.budget.source} (needed {sizing.cost:.2f}); shortfall {shortfall:.2f}",
    )


async def resize_buys(
    plan_id: str,
    *,
    ctx: RunContext,
    buys: Sequence[ItemState],
    sized: dict[int, Sized],
    market: Market,
    found: PlanOrders,
) -> bool:
    """After the sell phase: re-read the account, its open orders (their reservations) and the
    buys' quotes; re-size and scale the buys to the cash budget. False when the broker fails
    (the buys are then blocked with BROKER_UNAVAILABLE)."""
    try:
        account = await ctx.broker.get_account()
        open_orders = await ctx.broker.list_orders(
            after=ctx.clock.now() - _OPEN_ORDERS_LOOKBACK, open_only=True
        )
        market_buys = {o.symbol for o in open_orders if o.type is OrderType.MARKET}
        symbols = {s.symbol for s in buys}
        quotes = await ctx.broker.get_latest_quotes(symbols | market_buys)
        references = await read_references(
            ctx.broker, quotes, symbols, now=ctx.clock.now(), config=ctx.config
        )
        quotes, references = await await_references(
            ctx.broker,
            quotes,
            references,
            clock=ctx.clock,
            config=ctx.config,
            wait_s=reference_wait_s(ctx.deadline.remaining_trading_s()),
        )
    except BrokerError as exc:
        for state in buys:
            block(state, Reason.BROKER_UNAVAILABLE, f"buy budget re-read failed: {exc}")
        return False
    budget = buy_budget(account, open_buy_reservation(open_orders, quotes), ctx.config)
    sizing = size_buys(
        {s.index: s.item for s in buys},
        assets=market.assets,
        quotes=quotes,
        references=references,
        found=found,
        budget=budget,
        now=ctx.clock.now(),
        config=ctx.config,
    )
    for state in buys:
        fresh = sizing.sized[state.index]
        sized[state.index] = fresh
        if fresh.reason is not None or fresh.ref_price is None:
            block(state, fresh.reason or Reason.NO_VALID_QUOTE, fresh.detail or "")
            continue
        state.planned_qty = state.target_qty = fresh.planned_qty
        state.ref_price, state.quote = fresh.ref_price, fresh.quote
        apply_scale(state, sizing, found)
    logger.info(
        "buys_sized",
        extra={"plan_id": plan_id, "budget": str(budget.amount), "factor": str(sizing.factor)},
    )
    return True
