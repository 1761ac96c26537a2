"""What may happen at a broker between two of the executor's requests (alpaca-behaviour.md rows
3-7), as a small protocol any broker double can offer.

:class:`Book` is what an adversary may do to a broker; :class:`Adversary` decides, before each
request takes effect, what happens first and whether the request's response is lost. The
in-memory :class:`~tests.fakes.broker.FakeBroker` implements ``Book``; a simulator-backed book
(fills and statuses through the simulator's control API) can implement it too, so the same
property test runs against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Protocol

from rebalance_executor.domain.broker import BrokerOrder, OrderStatus


class Book(Protocol):
    def live(self) -> Sequence[BrokerOrder]: ...

    def fill(self, order_id: str, qty: Decimal) -> None: ...

    def set_status(self, order_id: str, status: OrderStatus) -> None: ...

    def conclude_cancels(self) -> None: ...

    def conclude_replaces(self) -> None: ...

    def serve_stale_listing(self) -> None: ...


class Adversary(Protocol):
    def between(self, book: Book, call: str) -> None:
        """Called before each request (named by its port method) takes effect."""
        ...

    def lose(self, call: str) -> bool:
        """True: this request takes effect (a write) or fails (a read), its answer is lost."""
        ...


class Act(StrEnum):
    NOTHING = "nothing"
    PARTIAL = "partial"  # a fraction of one live order's remainder fills
    COMPLETE = "complete"  # one live order fills completely
    CONCLUDE = "conclude"  # pending cancels and replaces conclude
    STATUS = "status"  # one live order moves to a rare live status
    STALE = "stale"  # the next listing shows the previous listing's view
    LOSE = "lose"  # this request's answer is lost


@dataclass(frozen=True)
class Move:
    act: Act
    pick: int = 0  # which live order (modulo their number)
    fraction: Decimal = Decimal("0.5")
    status: OrderStatus = OrderStatus.HELD


@dataclass
class ScriptedAdversary:
    """Plays one move per request; once the script is over, pending cancels conclude,
    held-like statuses are released and stopped orders get their guaranteed fill, so a run
    can end with nothing live."""

    script: Sequence[Move]
    played: int = 0
    seen: list[tuple[str, Act]] = field(default_factory=list)
    _lose_now: bool = False

    def between(self, book: Book, call: str) -> None:
        move = self.script[self.played] if self.played < len(self.script) else None
        self.played += 1
        self._lose_now = move is not None and move.act is Act.LOSE
        if move is None:
            self._release(book)
            return
        self.seen.append((call, move.act))
        self._play(book, move)

    def lose(self, call: str) -> bool:
        lost, self._lose_now = self._lose_now, False
        return lost

    def _play(self, book: Book, move: Move) -> None:
        if move.act is Act.CONCLUDE:
            book.conclude_replaces()
            book.conclude_cancels()
        elif move.act is Act.STALE:
            book.serve_stale_listing()
        live = list(book.live())
        if not live or move.act not in (Act.PARTIAL, Act.COMPLETE, Act.STATUS):
            return
        order = live[move.pick % len(live)]
        remaining = (order.qty or Decimal(0)) - order.filled_qty
        if move.act is Act.STATUS:
            book.set_status(order.id, move.status)
        elif move.act is Act.COMPLETE:
            book.fill(order.id, remaining)
        else:
            whole = order.qty is not None and order.qty == order.qty.to_integral_value()
            step = Decimal(1) if whole else Decimal("0.000000001")
            book.fill(order.id, (remaining * move.fraction).quantize(step, rounding=ROUND_DOWN))

    @staticmethod
    def _release(book: Book) -> None:
        book.conclude_replaces()
        book.conclude_cancels()
        for order in book.live():
            if order.status is OrderStatus.STOPPED:
                book.fill(order.id, (order.qty or Decimal(0)) - order.filled_qty)
            elif order.status in _WAITING:
                fresh = OrderStatus.PARTIALLY_FILLED if order.filled_qty else OrderStatus.NEW
                book.set_status(order.id, fresh)


_WAITING = frozenset(
    {
        OrderStatus.HELD,
        OrderStatus.PENDING_REVIEW,
        OrderStatus.SUSPENDED,
        OrderStatus.ACCEPTED_FOR_BIDDING,
        OrderStatus.UNKNOWN,
    }
)
