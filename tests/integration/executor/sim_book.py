"""The adversary's :class:`~tests.fakes.adversary.Book` on the faithful simulator.

Every act goes through the simulator's control API, so the broker's own rules decide what it
means: a fill lands only on an order the simulator would let fill (``new``, ``partially_filled``,
``pending_cancel``, ``pending_replace``, ``stopped``); a pending window ends by moving simulated
time past it (``advance_time``), so cancels become ``canceled`` and replaces ``replaced`` (or the
replacement ``rejected`` when the old order filled first) exactly as the simulator schedules them;
a lost response is the simulator's ``lost_response`` fault (processed, then 504) on the next
request to the endpoint behind the port call.

Acts the simulator cannot play (they stay with the FakeBroker property,
tests/unit/executor/test_overfill_property.py): a stale listing (no fault serves an older view
of the orders) and a status alpaca-py does not know (``force_status`` accepts Alpaca's statuses
only). Both are no-ops here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from alpaca_sim.faults import FaultSpec
from alpaca_sim.testing import RunningSimulator
from rebalance_executor.adapters.alpaca_mapping import order_from_json
from rebalance_executor.domain.broker import BrokerOrder, OrderStatus
from tests.fakes.adversary import Adversary

# The simulator's endpoint (fault pattern) behind each BrokerPort call of AlpacaBroker.
ENDPOINTS = {
    "get_account": "GET /v2/account",
    "get_clock": "GET /v2/clock",
    "get_assets": "GET /v2/assets*",
    "get_positions": "GET /v2/positions",
    "get_latest_quotes": "GET /v2/stocks/quotes/latest",
    "get_latest_trades": "GET /v2/stocks/trades/latest",
    "get_recent_bars": "GET /v2/stocks/bars",
    "list_orders": "GET /v2/orders",
    "get_order": "GET /v2/orders/{order_id}",
    "get_order_by_client_id": "GET /v2/orders:by_client_order_id",
    "submit_order": "POST /v2/orders",
    "cancel_order": "DELETE /v2/orders/{order_id}",
}
# Statuses in which the simulator's market fills an order (alpaca_sim README, row 6).
_FILLABLE = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
        OrderStatus.STOPPED,
    }
)
# Orders whose status only the pending window may change (as in the FakeBroker's book).
_IN_WINDOW = frozenset({OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE})


@dataclass
class SimBook:
    """One account's orders in a running simulator, as an adversary may act on them."""

    sim: RunningSimulator
    api_key: str
    pending_ms: int
    acts: dict[str, int] = field(default_factory=dict)

    def _count(self, act: str) -> None:
        self.acts[act] = self.acts.get(act, 0) + 1

    def live(self) -> Sequence[BrokerOrder]:
        orders = (order_from_json(o) for o in self.sim.control.orders(self.api_key))
        return [o for o in orders if not o.status.is_terminal]

    def fill(self, order_id: str, qty: Decimal) -> None:
        order = next((o for o in self.live() if o.id == order_id), None)
        if order is None or order.status not in _FILLABLE or order.qty is None:
            return
        amount = min(qty, order.qty - order.filled_qty)
        if amount > 0:
            self.sim.control.force_fill(order_id, amount)
            self._count(f"fill_{order.status.value}")

    def set_status(self, order_id: str, status: OrderStatus) -> None:
        order = next((o for o in self.live() if o.id == order_id), None)
        if order is None or order.status in _IN_WINDOW or status is OrderStatus.UNKNOWN:
            return
        self.sim.control.force_status(order_id, status.value)
        self._count(f"status_{status.value}")

    def conclude_cancels(self) -> None:
        """Move simulated time past the pending window when an order is in one: every cancel
        and replace requested before now concludes as the simulator schedules it."""
        if any(o.status in _IN_WINDOW for o in self.live()):
            self._count("conclude")
            self.sim.control.advance_time(self.pending_ms / 1000 + 0.001)

    def conclude_replaces(self) -> None:
        # the same window ends both (one advance concludes every pending transition)
        return

    def serve_stale_listing(self) -> None:
        # not playable on the simulator: no fault serves an older view of the orders
        return

    def lose_next_response(self, call: str) -> None:
        """The next request behind ``call`` is processed and its answer lost (504)."""
        endpoint = ENDPOINTS[call]
        self.sim.control.inject_fault(FaultSpec(endpoint=endpoint, kind="lost_response", count=1))
        self._count(f"lose_{call}")


def adversary_hook(adversary: Adversary, book: SimBook) -> Callable[[str, int], None]:
    """An InterceptingBroker hook: the adversary acts before each port call, and may lose its
    answer."""

    def hook(name: str, _number: int) -> None:
        adversary.between(book, name)
        if adversary.lose(name):
            book.lose_next_response(name)

    return hook
