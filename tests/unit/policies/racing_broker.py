"""A BrokerPort fake (our own port) whose fills race the executor's cancels and replaces.

Every broker call first plays the next step of a ``script`` (hypothesis draws it): 0 = nothing,
1 = half of an order's remainder fills, 2 = an order fills completely. The order is the one the
call is about (cancel, replace: the fill lands while the request is in flight), else the oldest
(1) or newest (2) live order. After the script, only marketable orders fill (at the next listing).
A cancel only requests cancellation (``pending_cancel``; fills may still land) and takes effect
at the next orders listing; a replace lands after the scripted fill, so it may replace a
partially filled order (the new order gets the old one's remainder, as Alpaca and the simulator
do) or be refused because the order already filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from rebalance_executor.domain.broker import (
    BrokerOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from tests.fakes.broker import FakeBroker


@dataclass
class RacingBroker(FakeBroker):
    script: list[int] = field(default_factory=list)
    replaces: int = 0
    cancels: int = 0
    _step: int = 0

    def _play(self, target: str | None = None) -> None:
        move = self.script[self._step] if self._step < len(self.script) else 0
        self._step += 1
        live = [o for o in self._live() if target is None or o.id == target]
        if not live or move == 0:
            return
        if move == 1:
            order = live[0]
            remaining = (order.qty or Decimal(0)) - order.filled_qty
            half = remaining / 2
            if (order.qty or Decimal(0)) == (order.qty or Decimal(0)).to_integral_value():
                half = half.to_integral_value(rounding=ROUND_FLOOR) or remaining
            self._fill(order, half.quantize(Decimal("0.000000001"), rounding=ROUND_FLOOR))
        else:
            order = live[-1]
            self._fill(order, (order.qty or Decimal(0)) - order.filled_qty)

    def _marketable(self, order: BrokerOrder) -> bool:
        if order.type is OrderType.MARKET or order.limit_price is None:
            return True
        bid, ask = self.quotes[order.symbol]
        return order.limit_price >= ask if order.side is Side.BUY else order.limit_price <= bid

    def _settle(self) -> None:
        """The scripted step, then marketable orders fill and pending cancels take effect."""
        self._play()
        for order in self._live():
            if self._marketable(order):
                self._fill(order, (order.qty or Decimal(0)) - order.filled_qty)
        for oid, order in list(self.orders.items()):
            if order.status is OrderStatus.PENDING_CANCEL:
                self.orders[oid] = order.model_copy(update={"status": OrderStatus.CANCELED})

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        order = await super().submit_order(request)
        self._play()  # a fill may land before the executor reads the response
        return order

    async def replace_order(
        self,
        order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        client_order_id: str | None = None,
    ) -> BrokerOrder:
        self._play(order_id)  # a fill may land before the replace reaches the book
        new = await super().replace_order(
            order_id, qty=qty, limit_price=limit_price, client_order_id=client_order_id
        )
        self.replaces += 1
        return new

    async def cancel_order(self, order_id: str) -> None:
        self._hit("cancel_order")
        self._play(order_id)
        self.cancels += 1
        order = self.orders[order_id]
        if not order.status.is_terminal:
            self.orders[order_id] = order.model_copy(update={"status": OrderStatus.PENDING_CANCEL})
