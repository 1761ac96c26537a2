"""One tick of work on one item: make the broker hold the order the policy wants (SPEC §4.5).

The item's slot (``executor/lifecycle.py``) says what may happen; the rules it enforces, whatever
the policy says (the argument that they cannot over-fill is in docs/executor.md):
- an order is sent only from ``IDLE``: every earlier order of the item terminal as a broker
  answer showed it, so the remainder ``target - sum(filled)`` is sized from final fills; at most
  one order is in flight per item;
- re-pricing is a cancel, then, once a listing shows the order terminal, a new order for the
  remainder; never a replace (PATCH);
- a submit whose outcome is unknown is looked up by client order id before anything else; a
  duplicate-id answer is only looked up, never re-sent; look-ups are bounded;
- an order found by client order id is adopted only if it fits the item (symbol, side, time);
- a refusal stops the item with the refusal's reason; a policy's STOP cancels what is live;
  nothing new is sent after the window's stop point;
- all of the above runs on every tick; only the policy's own ``decide`` waits for its schedule.
"""

from __future__ import annotations

import dataclasses
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
    InsufficientQtyError,
    OrderRequest,
    OrderType,
    PatternDayTraderError,
    WashTradeError,
)
from rebalance_executor.domain.result import PricePoint, Reason
from rebalance_executor.executor.context import RunContext, Window
from rebalance_executor.executor.ids import client_order_id
from rebalance_executor.executor.lifecycle import (
    IN_FLIGHT_SLOTS,
    TRANSITIONAL_SLOTS,
    Slot,
    SlotEvent,
)
from rebalance_executor.executor.policies import Desired, DesiredKind, PolicyInput
from rebalance_executor.executor.policies.pricing import is_marketable
from rebalance_executor.executor.reconcile import order_misfit
from rebalance_executor.executor.sizing import round_qty
from rebalance_executor.executor.state import ItemState, Unresolved

logger = logging.getLogger(__name__)

# A remainder worth less than this is not worth an order (and is inside the §3.3 tolerance).
DUST_NOTIONAL = Decimal(1)
# Look-ups by client order id that find nothing before the item gives the submit up.
MAX_LOOKUP_MISSES = 3
_QTY_EPSILON = Decimal("0.000000001")
_CANCEL_RETRY_S = 5.0
_REFUSAL_REASONS: tuple[tuple[type[BrokerRequestError], Reason], ...] = (
    (InsufficientBuyingPowerError, Reason.BUYING_POWER),
    (InsufficientQtyError, Reason.INSUFFICIENT_QTY),
    (WashTradeError, Reason.WASH_TRADE),
    (PatternDayTraderError, Reason.PATTERN_DAY_TRADER),
)


def sendable_qty(state: ItemState) -> Decimal:
    """The remainder that may be sent now, rounded down; zero when it is dust."""
    qty = round_qty(state.need, state.fractionable)
    return qty if qty * state.ref_price >= DUST_NOTIONAL else Decimal(0)


def in_flight(state: ItemState) -> bool:
    """True while a request of the item awaits the broker's answer or an order is live."""
    return state.slot in IN_FLIGHT_SLOTS


def settle(state: ItemState, ctx: RunContext) -> bool:
    """Mark the item done when nothing is in flight and nothing worth sending remains."""
    if state.done:
        return True
    if state.slot is Slot.IDLE and sendable_qty(state) <= 0:
        state.fire(SlotEvent.SETTLED)
        state.completed_at = ctx.clock.now()
        ctx.show_done(state)
    return state.done


def decision_blocked(state: ItemState) -> bool:
    """True while the slot waits on the broker: a submit to resolve, a cancel to see final."""
    return state.slot in TRANSITIONAL_SLOTS


def decision_due(state: ItemState, ctx: RunContext) -> bool:
    """True when the item's policy wants to decide now and nothing blocks it."""
    return state.decide_at <= ctx.clock.monotonic() and not decision_blocked(state)


def awaiting_cancel(state: ItemState) -> bool:
    """True while a cancel we requested is not yet seen final in a listing."""
    return state.slot is Slot.CANCELING


def awaiting_news(state: ItemState, ctx: RunContext) -> bool:
    """True while the item waits on news a listing should bring: a submit to resolve, a cancel
    to see final, or a live order expected to execute at once (market, or a limit marketable
    against the item's last quote)."""
    if decision_blocked(state):
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

    The safety work (resolving an unknown submit, pursuing a cancel, cancelling
    over-commitment) runs on every call; the policy is asked only when its decision is due
    (``state.decide_at``), and then says when it next wants to be asked.
    """
    if state.slot is Slot.SUBMITTING:
        await _resolve(state, ctx, resend=not window.over(ctx.clock))
        return
    if settle(state, ctx):
        return
    if state.slot is Slot.CANCELING:
        await _pursue_cancel(state, ctx)
        return
    live = state.live_orders
    if len(live) > 1 or (live and _unfilled(live[0]) > state.need + _QTY_EPSILON):
        await _cancel(state, ctx)  # defensive: more committed than the remainder
        return
    if state.decide_at > ctx.clock.monotonic():
        return
    await _decide_and_act(state, ctx, window, live[0] if live else None)
    _schedule(state, ctx, window)


async def _decide_and_act(
    state: ItemState, ctx: RunContext, window: Window, order: BrokerOrder | None
) -> None:
    seen = _policy_input(state, ctx, window, order)
    state.sample_quote(seen.quote)  # the quote path (TCA charts) is the quotes decided on
    desired = ctx.policy.decide(seen, ctx.config)
    if desired.kind is DesiredKind.STOP:
        state.stop(desired.reason or Reason.BROKER_REJECTED, desired.detail or "policy stop")
        if order is not None:
            await _cancel(state, ctx)
        return
    if order is not None:
        if not desired.matches(order):
            # Re-price: cancel; the remainder is sent once a listing shows the cancel final.
            state.repegs += 1
            await _cancel(state, ctx)
    elif desired.sends and not window.over(ctx.clock):
        await _submit(state, ctx, _new_request(state, ctx, sendable_qty(state), desired))


def _schedule(state: ItemState, ctx: RunContext, window: Window) -> None:
    """Ask the policy when it next wants to decide, given what is live after this decision.

    While a cancel or a submit is in flight the answer waits for the listing that settles it
    (the loop re-decides when the item's orders change), so "now" is kept.
    """
    now = ctx.clock.monotonic()
    if state.done or decision_blocked(state):
        state.decide_at = now
        return
    live = state.live_orders
    order = live[0] if live else None
    delay = ctx.policy.next_decision_s(_policy_input(state, ctx, window, order), ctx.config)
    if delay is None:
        state.decide_at = math.inf
    else:
        state.decide_at = now if delay <= 0 else window.on_grid(now + delay)


def _unfilled(order: BrokerOrder) -> Decimal:
    return (order.qty or Decimal(0)) - order.filled_qty


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
        activity=ctx.tracker.activity.get(state.symbol),
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
    """Take a broker answer about the item's submit (the answer itself, or the order found by
    its client order id) once it is known to fit the item."""
    state.unresolved = None
    state.fire(SlotEvent.SUBMIT_ACKED)
    state.record(order)
    state.order_placed_at = state.last_write_at = ctx.clock.monotonic()
    if order.limit_price is not None:
        point = PricePoint(at=ctx.clock.now(), price=order.limit_price)
        state.limit_history.setdefault(order.id, []).append(point)
    state.observe()


def _take_answer(state: ItemState, ctx: RunContext, order: BrokerOrder) -> None:
    """Adopt ``order`` if it fits the item; otherwise stop the item and leave the order be."""
    misfit = order_misfit(order, symbol=state.symbol, side=state.side, since=ctx.tracker.since)
    if misfit is None:
        _accept(state, ctx, order)
        return
    logger.error(
        "order_not_adopted",
        extra={"client_order_id": order.client_order_id, "symbol": state.symbol, "why": misfit},
    )
    state.unresolved = None
    state.fire(SlotEvent.SUBMIT_REFUSED)
    state.stop(Reason.ADOPTION_REFUSED, f"order {order.client_order_id} not adopted: {misfit}")


def _unresolve(state: ItemState, request: OrderRequest, *, duplicate: bool) -> None:
    misses = state.unresolved.misses if state.unresolved is not None else 0
    state.fire(SlotEvent.SUBMIT_UNKNOWN)
    state.unresolved = Unresolved(request, duplicate=duplicate, misses=misses)


def refusal_reason(exc: BrokerRequestError) -> Reason:
    """The item reason for a broker refusal of its order."""
    for cls, reason in _REFUSAL_REASONS:
        if isinstance(exc, cls):
            return reason
    return Reason.BROKER_REJECTED


async def _submit(state: ItemState, ctx: RunContext, request: OrderRequest) -> None:
    if state.arrival_quote is None:
        state.arrival_quote = ctx.tracker.quotes.get(state.symbol, state.quote)
        state.started_at = ctx.clock.now()
    extra = {"client_order_id": request.client_order_id, "symbol": request.symbol}
    try:
        order = await ctx.broker.submit_order(request)
    except DuplicateClientOrderIdError:
        # The broker holds an order with this id already: look it up, never re-send it.
        logger.warning("submit_duplicate", extra=extra)
        _unresolve(state, request, duplicate=True)
        return
    except (AmbiguousSubmitError, BrokerUnavailableError) as exc:
        logger.warning("submit_unresolved", extra={**extra, "error": str(exc)})
        _unresolve(state, request, duplicate=False)
        return
    except BrokerRequestError as exc:
        state.unresolved = None
        state.fire(SlotEvent.SUBMIT_REFUSED)
        state.stop(refusal_reason(exc), str(exc))
        return
    logger.info("order_submitted", extra={**extra, "qty": str(request.qty)})
    _take_answer(state, ctx, order)


async def _lookup(ctx: RunContext, coid: str) -> BrokerOrder | BrokerError | None:
    try:
        return await ctx.broker.get_order_by_client_id(coid)
    except BrokerError as exc:
        return exc


async def _resolve(state: ItemState, ctx: RunContext, *, resend: bool) -> None:
    """Look the unknown submit up by client order id; adopt it, or after a lost response
    re-send it under the same id (``resend``), or give it up after MAX_LOOKUP_MISSES."""
    pending = state.unresolved
    assert pending is not None  # the slot is SUBMITTING exactly while a submit is unresolved
    coid = pending.request.client_order_id
    found = await _lookup(ctx, coid)
    if isinstance(found, BrokerError):
        return  # broker unreachable: the next tick looks again
    if found is not None:
        _take_answer(state, ctx, found)
        return
    misses = pending.misses + 1
    if misses >= MAX_LOOKUP_MISSES:
        state.unresolved = None
        state.fire(SlotEvent.LOOKUP_GAVE_UP)
        state.stop(Reason.SUBMIT_UNRESOLVED, f"{coid}: {misses} look-ups found no such order")
        return
    state.unresolved = dataclasses.replace(pending, misses=misses)
    if resend and not pending.duplicate:
        # Not at the broker after a lost response: re-send under the same id (a late original
        # is then refused as a duplicate and looked up, never doubled).
        await _submit(state, ctx, pending.request)


async def _cancel(state: ItemState, ctx: RunContext) -> None:
    """Request cancellation of every live order of the item (the slot becomes CANCELING)."""
    state.fire(SlotEvent.CANCEL_SENT)
    state.cancel_at = state.last_write_at = ctx.clock.monotonic()
    for order in state.live_orders:
        try:
            await ctx.broker.cancel_order(order.id)
        except BrokerError as exc:
            logger.warning("cancel_failed", extra={"order_id": order.id, "error": str(exc)})
            state.cancel_at = None  # asked again on the next tick


async def _pursue_cancel(state: ItemState, ctx: RunContext) -> None:
    """Re-request a cancel that lingers (or failed); the listing decides when it is final."""
    asked = state.cancel_at
    if asked is None or ctx.clock.monotonic() - asked >= _CANCEL_RETRY_S:
        await _cancel(state, ctx)


async def cancel_live(state: ItemState, ctx: RunContext) -> None:
    """Wind-down: settle an unknown submit by look-up (never re-send), cancel what is live."""
    if state.slot is Slot.SUBMITTING:
        await _resolve(state, ctx, resend=False)
    if state.slot is Slot.WORKING:
        await _cancel(state, ctx)
    elif state.slot is Slot.CANCELING:
        await _pursue_cancel(state, ctx)
