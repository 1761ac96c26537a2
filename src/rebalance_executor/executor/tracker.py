"""Batched state polling (SPEC §4.6): at most one orders listing (items with live orders) and one
multi-symbol quotes call (items whose decision is due) per tick, never one poll loop per order."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from rebalance_executor.domain.broker import BrokerError, BrokerOrder, BrokerPort, Quote
from rebalance_executor.executor.ids import parse_client_order_id
from rebalance_executor.executor.state import ItemState

logger = logging.getLogger(__name__)

# Listing starts a little before the oldest live order: broker timestamps have coarse precision.
_LIST_MARGIN = timedelta(seconds=5)


class Tracker:
    """Routes the broker's view of the plan's orders to the items they belong to."""

    def __init__(self, broker: BrokerPort, plan_key: str, since: datetime) -> None:
        self._broker = broker
        self._key = plan_key
        self._since = since
        self._items: dict[int, ItemState] = {}
        self.quotes: dict[str, Quote] = {}

    def register(self, states: Iterable[ItemState]) -> None:
        for state in states:
            self._items[state.index] = state

    def absorb(self, orders: Sequence[BrokerOrder]) -> None:
        """Record every order carrying the plan's prefix, or replacing one, on its item."""
        by_id = {oid: s for s in self._items.values() for oid in s.orders}
        for order in orders:
            parsed = parse_client_order_id(self._key, order.client_order_id)
            if parsed is None:
                # A replacement carries a broker-chosen client order id: follow ``replaces``.
                known = by_id.get(order.id) or by_id.get(order.replaces or "")
                if known is not None:
                    known.confirm(order)
                    by_id[order.id] = known
                continue
            state = self._items.get(parsed[0])
            if state is None or state.symbol != order.symbol:
                continue
            state.confirm(order)
            state.next_seq = max(state.next_seq, parsed[1] + 1)

    async def poll_orders(self, states: Sequence[ItemState]) -> None:
        """One orders listing for the items of ``states`` with live or unconfirmed orders (none
        when no item has any). Broker failures are logged and skipped: the next tick lists again.
        """
        live = [s for s in states if s.live_orders or s.unconfirmed]
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

    async def _poll_orders(self, live: Sequence[ItemState]) -> None:
        # Unconfirmed (replaced-by-us) orders are listed too, so their last fills are read.
        watched = [
            o
            for s in live
            for o in s.orders.values()
            if not o.status.is_terminal or o.id in s.unconfirmed
        ]
        submitted = [o.submitted_at for o in watched if o.submitted_at is not None]
        after = (min(submitted) if submitted else self._since) - _LIST_MARGIN
        try:
            orders = await self._broker.list_orders(
                after=max(after, self._since), symbols={s.symbol for s in live}
            )
        except BrokerError as exc:
            logger.warning("order_poll_failed", extra={"error": str(exc)})
            return
        self.absorb(orders)
