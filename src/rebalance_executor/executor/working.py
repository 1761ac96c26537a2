"""One tick of work on one item: make the broker hold the order the policy wants (SPEC §4.5).

Safety rules enforced here, whatever the policy says:
- a new order is sent only when the item has no live order and no unresolved submit, and only
  for ``target - filled`` (all of the item's orders counted), rounded down;
- a cancel must be final (seen terminal in a later listing) before the remainder is re-sent, so a
  fill racing the cancel is counted before the next order is sized;
- a live order bigger than the remainder (a fill raced a replace) is cancelled, not trusted;
- re-pegs replace only unfilled whole-share limit orders (Alpaca cannot replace fractional
  ones); otherwise cancel, wait for the cancel to be final, and send the remainder anew;
- an order replaced by us stays "unconfirmed" until a listing shows its final fills, so a fill
  that landed just before the replace is counted before the next order is sized;
- a policy's STOP (e.g. the price collar) cancels what is live and never sends again;
- no new order after the window's stop point;
- all of the above runs on every tick, whatever the policy's decision schedule says: only the
  policy's own ``decide`` waits for ``next_decision_s``.
"""

from __future__ import annotations

import logging
import math
from decimal import Decimal

from rebalance_executor.domain.broker import (
    AmbiguousSubmitError,
    BrokerError,
    BrokerOrder,
    BrokerRequestError,
    BrokerUnavailableError,
    DuplicateClientOrderIdError,
    InsufficientBuyingPowerError,
    OrderRequest,
    OrderStatus,
    OrderType,
)
from rebalance_executor.domain.result import PricePoint, Reason
from rebalance_executor.executor.context import RunContext, Window
from rebalance_executor.executor.ids import client_order_id
from rebalance_executor.executor.policies import Desired, DesiredKind, PolicyInput
from rebalance_executor.executor.policies.pricing import is_marketable
from rebalance_executor.executor.sizing import round_qty
from rebalance_executor.executor.state import ItemState

logger = logging.getLogger(__name__)

# A remainder worth less than this is not worth an order (and is inside the §3.3 tolerance).
DUST_NOTIONAL = Decimal(1)
_QTY_EPSILON = Decimal("0.000000001")
_CANCEL_RETRY_S = 5.0


def sendable_qty(state: ItemState) -> Decimal:
    """The remainder that may be sent now, rounded down; zero when it is dust."""
    qty = round_qty(state.need, state.fractionable)
    return qty if qty * state.ref_price >= DUST_NOTIONAL else Decimal(0)


def settle(state: ItemState, ctx: RunContext) -> bool:
    """Mark the item done when nothing is live or pending and nothing worth sending remains."""
    if state.done:
        return True
    if state.pending_request is None and not state.live_orders and sendable_qty(state) <= 0:
        state.done = True
        state.completed_at = ctx.clock.now()
        ctx.show_done(state)
    return state.done


def decision_blocked(state: ItemState, ctx: RunContext) -> bool:
    """True while safety work must finish before the policy may decide: an unresolved submit,
    a cancel not yet final, or a replaced order whose final fills are not read yet."""
    return (
        state.pending_request is not None
        or _awaiting_cancel(state, ctx)
        or bool(state.unconfirmed and not state.live_orders)
    )


def decision_due(state: ItemState, ctx: RunContext) -> bool:
    """True when the item's policy wants to decide now and nothing blocks it."""
    return state.decide_at <= ctx.clock.monotonic() and not decision_blocked(state, ctx)


def awaiting_cancel(state: ItemState) -> bool:
    """True while a cancel we requested is not yet seen final in a listing."""
    return bool(state.cancel_requested.keys() & state.live_ids)


def awaiting_news(state: ItemState, ctx: RunContext) -> bool:
    """True while the item waits on news a listing should bring: a submit to resolve, a cancel
    to see final (the remainder is re-sent after it), or a live order expected to execute at
    once (market, or a limit marketable against the item's last quote). A replaced order's
    final fills are not waited for while its replacement works."""
    if decision_blocked(state, ctx) or awaiting_cancel(state):
        return True
    quote = ctx.tracker.quotes.get(state.symbol, state.quote)
    for order in state.live_orders:
        if order.type is OrderType.MARKET:
            return True
        if quote is not None and is_marketable(order.limit_price, quote, state.side):
            return True
    return False


async def step(state: ItemState, ctx: RunContext, window: Window) -> None:
    """Advance one item by at most one broker write. Never raises :class:`BrokerError`.

    The safety work (resolving an unknown submit, cancelling over-commitment) runs on every
    call; the policy is asked only when its decision is due (``state.decide_at``), and then
    says when it next wants to be asked.
    """
    if state.pending_request is not None:
        await _resolve_pending(state, state.pending_request, ctx, window)
        return
    if settle(state, ctx) or decision_blocked(state, ctx):
        return
    live = state.live_orders
    if len(live) > 1 or (live and _unfilled(live[0]) > state.need + _QTY_EPSILON):
        # More committed than needed (a fill raced a replace, or an adopted stale order).
        await _cancel_all(state, ctx, live)
        return
    if state.decide_at > ctx.clock.monotonic():
        return
    await _decide_and_act(state, ctx, window, live[0] if live else None)
    _schedule(state, ctx, window)


async def _decide_and_act(
    state: ItemState, ctx: RunContext, window: Window, order: BrokerOrder | None
) -> None:
    live = state.live_orders
    seen = _policy_input(state, ctx, window, order)
    state.sample_quote(seen.quote)  # the quote path (TCA charts) is the quotes decided on
    desired = ctx.policy.decide(seen, ctx.config)
    if desired.kind is DesiredKind.STOP:
        if live:
            await _cancel_all(state, ctx, live)
        _stop(state, desired.reason or Reason.BROKER_REJECTED, desired.detail or "policy stop")
        return
    if order is not None:
        await _adjust(state, ctx, window, order, desired)
    elif desired.sends and not window.over(ctx.clock):
        await _submit(state, ctx, _new_request(state, ctx, sendable_qty(state), desired))


def _schedule(state: ItemState, ctx: RunContext, window: Window) -> None:
    """Ask the policy when it next wants to decide, given what is live after this decision.

    While a cancel or a submit is in flight the answer waits for the listing that settles it
    (the loop re-decides when the item's orders change), so "now" is kept.
    """
    now = ctx.clock.monotonic()
    live = state.live_orders
    if (
        state.done
        or state.pending_request is not None
        or len(live) > 1
        or any(o.id in state.cancel_requested for o in live)
    ):
        state.decide_at = now
        return
    order = live[0] if live else None
    delay = ctx.policy.next_decision_s(_policy_input(state, ctx, window, order), ctx.config)
    if delay is None:
        state.decide_at = math.inf
    else:
        state.decide_at = now if delay <= 0 else window.on_grid(now + delay)


def _unfilled(order: BrokerOrder) -> Decimal:
    return (order.qty or Decimal(0)) - order.filled_qty


def _awaiting_cancel(state: ItemState, ctx: RunContext) -> bool:
    now = ctx.clock.monotonic()
    for order in state.live_orders:
        requested = state.cancel_requested.get(order.id)
        if requested is not None and now - requested < _CANCEL_RETRY_S:
            return True
    return False


def _policy_input(
    state: ItemState, ctx: RunContext, window: Window, order: BrokerOrder | None
) -> PolicyInput:
    placed = state.order_placed_at
    return PolicyInput(
        symbol=state.symbol,
        side=state.side,
        remaining_qty=state.need,
        quote=ctx.tracker.quotes.get(state.symbol, state.quote),
        arrival_quote=state.arrival_quote or state.quote,
        elapsed_fraction=window.elapsed_fraction(ctx.clock),
        seconds_left=window.remaining(ctx.clock),
        live_order=order,
        live_order_age_s=None if placed is None else ctx.clock.monotonic() - placed,
        repegs=state.repegs,
        now=ctx.clock.now(),
        window_s=window.stop - window.start,
        reference=state.ref_price,
    )


def _new_request(state: ItemState, ctx: RunContext, qty: Decimal, desired: Desired) -> OrderRequest:
    coid = client_order_id(ctx.plan_key, state.index, state.next_seq)
    state.next_seq += 1
    is_limit = desired.kind is DesiredKind.LIMIT
    return OrderRequest(
        symbol=state.symbol,
        side=state.side,
        qty=qty,
        type=OrderType.LIMIT if is_limit else OrderType.MARKET,
        limit_price=desired.limit_price if is_limit else None,
        client_order_id=coid,
    )


def _accept(state: ItemState, ctx: RunContext, order: BrokerOrder) -> None:
    state.record(order)
    state.order_placed_at = ctx.clock.monotonic()
    if order.limit_price is not None:
        point = PricePoint(at=ctx.clock.now(), price=order.limit_price)
        state.limit_history.setdefault(order.id, []).append(point)


async def _submit(state: ItemState, ctx: RunContext, request: OrderRequest) -> None:
    if state.arrival_quote is None:
        state.arrival_quote = ctx.tracker.quotes.get(state.symbol, state.quote)
        state.started_at = ctx.clock.now()
    extra = {"client_order_id": request.client_order_id, "symbol": request.symbol}
    try:
        order = await ctx.broker.submit_order(request)
    except DuplicateClientOrderIdError:
        found = await _lookup(ctx, request.client_order_id)
        if not isinstance(found, BrokerOrder):
            state.pending_request = request
            return
        order = found
    except (AmbiguousSubmitError, BrokerUnavailableError) as exc:
        # Unknown outcome: the next tick looks the id up before anything else is sent.
        logger.warning("submit_unresolved", extra={**extra, "error": str(exc)})
        state.pending_request = request
        return
    except InsufficientBuyingPowerError as exc:
        _stop(state, Reason.BUYING_POWER, str(exc))
        return
    except BrokerRequestError as exc:
        _stop(state, Reason.BROKER_REJECTED, str(exc))
        return
    logger.info("order_submitted", extra={**extra, "qty": str(request.qty)})
    _accept(state, ctx, order)


async def _lookup(ctx: RunContext, coid: str) -> BrokerOrder | BrokerError | None:
    try:
        return await ctx.broker.get_order_by_client_id(coid)
    except BrokerError as exc:
        return exc


async def _resolve_pending(
    state: ItemState, request: OrderRequest, ctx: RunContext, window: Window
) -> None:
    found = await _lookup(ctx, request.client_order_id)
    if isinstance(found, BrokerError):
        return
    if found is not None:
        state.pending_request = None
        _accept(state, ctx, found)
    elif window.over(ctx.clock):
        state.pending_request = None
    else:
        # Not at the broker: re-send under the same id (a late original is then refused as a
        # duplicate and adopted, never doubled).
        state.pending_request = None
        await _submit(state, ctx, request)


def _stop(state: ItemState, reason: Reason, detail: str) -> None:
    logger.warning("item_stopped", extra={"symbol": state.symbol, "reason": reason.value})
    state.note_reason(reason, detail)
    state.target_qty = state.filled_qty
    state.done = not state.live_orders


async def _adjust(
    state: ItemState, ctx: RunContext, window: Window, order: BrokerOrder, desired: Desired
) -> None:
    if desired.matches(order):
        return
    can_replace = (
        desired.kind is DesiredKind.LIMIT
        and order.type is OrderType.LIMIT
        and order.filled_qty == 0
        and order.qty is not None
        and order.qty == order.qty.to_integral_value()
        and not window.over(ctx.clock)
    )
    if not can_replace:
        await _cancel_all(state, ctx, [order])
        return
    coid = client_order_id(ctx.plan_key, state.index, state.next_seq)
    state.next_seq += 1
    try:
        new = await ctx.broker.replace_order(
            order.id, limit_price=desired.limit_price, client_order_id=coid
        )
    except BrokerError as exc:
        # Filled/canceled meanwhile, or unknown outcome: the next listing tells.
        logger.info("replace_failed", extra={"symbol": state.symbol, "error": str(exc)})
        return
    state.record(order.model_copy(update={"status": OrderStatus.REPLACED, "replaced_by": new.id}))
    state.unconfirmed.add(order.id)
    state.repegs += 1
    logger.info("order_replaced", extra={"symbol": state.symbol, "client_order_id": coid})
    _accept(state, ctx, new)


async def _cancel_all(state: ItemState, ctx: RunContext, orders: list[BrokerOrder]) -> None:
    for order in orders:
        state.cancel_requested[order.id] = ctx.clock.monotonic()
        try:
            await ctx.broker.cancel_order(order.id)
        except BrokerError as exc:
            logger.warning("cancel_failed", extra={"order_id": order.id, "error": str(exc)})
            state.cancel_requested.pop(order.id, None)


async def cancel_live(state: ItemState, ctx: RunContext) -> None:
    """Wind-down: settle an unknown submit by lookup (never re-send) and cancel live orders."""
    request = state.pending_request
    if request is not None:
        found = await _lookup(ctx, request.client_order_id)
        if isinstance(found, BrokerOrder):
            _accept(state, ctx, found)
        if not isinstance(found, BrokerError):
            state.pending_request = None
    now = ctx.clock.monotonic()
    requested = state.cancel_requested
    lingering = [
        o
        for o in state.live_orders
        if o.id not in requested or now - requested[o.id] >= _CANCEL_RETRY_S
    ]
    await _cancel_all(state, ctx, lingering)
