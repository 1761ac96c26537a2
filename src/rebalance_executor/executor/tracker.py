"""Batched state polling (SPEC §4.6): at most one orders listing (items with live orders) and one
multi-symbol quotes call (items whose decision is due) per tick, never one poll loop per order."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rebalance_executor.domain.broker import BrokerError, BrokerOrder, BrokerPort, Quote
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.executor.ids import parse_client_order_id
from rebalance_executor.executor.lifecycle import IN_FLIGHT_SLOTS, Slot
from rebalance_executor.executor.policies import OrderPolicy
from rebalance_executor.executor.policies.activity import Activity, activity_from_bars
from rebalance_executor.executor.reconcile import order_misfit
from rebalance_executor.executor.state import ItemState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateTally:
    """Stream updates applied to known orders, and those naming a plan order no item knows."""

    applied: int
    unknown: int


# Listing starts a little before the oldest live order: broker timestamps have coarse precision.
_LIST_MARGIN = timedelta(seconds=5)


class Tracker:
    """Routes the broker's view of the plan's orders to the items they belong to."""

    def __init__(self, broker: BrokerPort, plan_key: str, since: datetime) -> None:
        self._broker = broker
        self._key = plan_key
        # orders submitted before this are not the plan's (adoption rule, SPEC §4.2)
        self.since = since
        self._items: dict[int, ItemState] = {}
        # orders with a plan id that do not fit their item (logged once each)
        self._misfits: set[str] = set()
        self.quotes: dict[str, Quote] = {}
        # what each symbol's recent bars showed (read once per symbol, before its phase)
        self.activity: dict[str, Activity] = {}
        self._bars_read: set[str] = set()

    def register(self, states: Iterable[ItemState]) -> None:
        for state in states:
            self._items[state.index] = state

    def absorb(self, orders: Sequence[BrokerOrder]) -> None:
        """Record every order carrying the plan's prefix and fitting its item, or replacing one
        of the item's orders, then bring each touched item's slot in line with it."""
        by_id = {oid: s for s in self._items.values() for oid in s.orders}
        touched: dict[int, ItemState] = {}
        for order in orders:
            state = self._owner(order, by_id)
            if state is None:
                continue
            state.record(order)
            by_id[order.id] = state
            touched[state.index] = state
        for state in touched.values():
            state.observe()

    def absorb_updates(self, orders: Sequence[BrokerOrder], at: float) -> UpdateTally:
        """Take the order snapshots of stream updates received at monotonic ``at``.

        Only orders the items already know are applied (through ``ItemState.record``, which
        keeps the largest cumulative fill, so duplicates and reordering cannot double-count).
        An update for a plan order no item knows yet (a submit whose answer was lost, a
        replacement, or a bogus event) is not trusted: it is counted as ``unknown`` and the
        caller confirms it with a listing. Updates for other orders of the account are ignored.
        """
        by_id = {oid: s for s in self._items.values() for oid in s.orders}
        touched: dict[int, ItemState] = {}
        applied = unknown = 0
        for order in orders:
            state = self._owner(order, by_id)
            if state is None:
                continue
            if order.id not in state.orders:
                unknown += 1
                logger.info(
                    "stream_update_unknown_order",
                    extra={"order_id": order.id, "client_order_id": order.client_order_id},
                )
                continue
            state.record(order)
            state.last_heard_at = at
            touched[state.index] = state
            applied += 1
        for state in touched.values():
            state.observe()
        return UpdateTally(applied=applied, unknown=unknown)

    def _owner(self, order: BrokerOrder, by_id: dict[str, ItemState]) -> ItemState | None:
        parsed = parse_client_order_id(self._key, order.client_order_id)
        if parsed is None:
            # A replacement carries a broker-chosen client order id: follow ``replaces``.
            return by_id.get(order.id) or by_id.get(order.replaces or "")
        state = self._items.get(parsed[0])
        if state is None:
            return None
        state.next_seq = max(state.next_seq, parsed[1] + 1)
        misfit = order_misfit(order, symbol=state.symbol, side=state.side, since=self.since)
        if misfit is not None:
            if order.id not in self._misfits:
                self._misfits.add(order.id)
                extra = {"client_order_id": order.client_order_id, "why": misfit}
                logger.warning("order_not_adopted", extra=extra)
            return None
        return state

    async def poll_orders(self, states: Sequence[ItemState]) -> None:
        """One orders listing for the items of ``states`` with something in flight (none when
        no item has). Broker failures are logged and skipped: the next tick lists again."""
        live = [s for s in states if s.slot in IN_FLIGHT_SLOTS]
        if live:
            await self._poll_orders(live)

    async def poll_quotes(self, states: Sequence[ItemState]) -> None:
        """One multi-symbol latest-quotes call for ``states`` (none when empty). Broker failures
        are logged and skipped: the items keep their last quote (the policies' stale-quote guard
        decides whether it is still usable)."""
        if not states:
            return
        try:
            self.quotes.update(await self._broker.get_latest_quotes({s.symbol for s in states}))
        except BrokerError as exc:
            logger.warning("quote_poll_failed", extra={"error": str(exc)})

    async def read_activity(
        self, states: Sequence[ItemState], policy: OrderPolicy, config: ExecutionConfig
    ) -> None:
        """One recent-bars request for the items of ``states`` the policy wants bars for and
        whose symbol was not read yet (none when there is no such item). Broker failures are
        logged and skipped: the policy then works those items without it."""
        wanted: dict[str, int] = {}
        for state in states:
            minutes = policy.recent_bars_minutes(config, state.quote)
            if minutes > 0 and state.symbol not in self._bars_read:
                wanted[state.symbol] = max(minutes, wanted.get(state.symbol, 0))
        if not wanted:
            return
        self._bars_read |= set(wanted)
        try:
            bars = await self._broker.get_recent_bars(set(wanted), max(wanted.values()))
        except BrokerError as exc:
            logger.warning("bars_read_failed", extra={"error": str(exc)})
            return
        for symbol, series in bars.items():
            activity = activity_from_bars(series)
            if activity is not None:
                self.activity[symbol] = activity

    async def _poll_orders(self, live: Sequence[ItemState]) -> None:
        watched = [o for s in live for o in s.orders.values() if not o.status.is_terminal]
        submitted = [o.submitted_at for o in watched if o.submitted_at is not None]
        # An unresolved submit has no broker time yet: list from the plan's start then.
        if any(s.slot is Slot.SUBMITTING for s in live) or not submitted:
            after = self.since
        else:
            after = max(min(submitted) - _LIST_MARGIN, self.since)
        try:
            orders = await self._broker.list_orders(after=after, symbols={s.symbol for s in live})
        except BrokerError as exc:
            logger.warning("order_poll_failed", extra={"error": str(exc)})
            return
        self.absorb(orders)

    async def reconcile(self) -> bool:
        """One listing of every registered item's orders since the plan's start, absorbed: the
        broker's REST state as the source of truth at the end of a run that followed streams.
        False when the broker failed (the items keep what they saw)."""
        symbols = {s.symbol for s in self._items.values()}
        if not symbols:
            return True
        try:
            orders = await self._broker.list_orders(after=self.since, symbols=symbols)
        except BrokerError as exc:
            logger.warning("final_reconcile_failed", extra={"error": str(exc)})
            return False
        self.absorb(orders)
        return True
