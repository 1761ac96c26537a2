"""Where an item's orders stand, as one explicit state machine (SPEC §4.5, docs/executor.md).

An item has at most one order in flight at any time. Its *slot* says what the executor may do:

- ``IDLE``: every order of the item is terminal as a broker answer showed it, so its fills are
  final. The only state from which an order is sent, sized ``target - sum(filled)``.
- ``SUBMITTING``: a submit whose outcome is unknown (lost response, "already submitted" answer).
  Only a look-up by client order id may follow; nothing else is sent.
- ``WORKING``: one order is live at the broker.
- ``CANCELING``: a cancel was requested; fills may still land (``pending_cancel``). Nothing is
  sent until a listing shows every order of the item terminal.
- ``DONE``: nothing live, nothing more to send. Terminal.

Re-pricing is ``WORKING -> CANCELING -> IDLE -> WORKING``: never a replace (PATCH), whose
outcome Alpaca does not make safe to reason about (alpaca-behaviour.md row 3).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Slot(StrEnum):
    IDLE = "IDLE"
    SUBMITTING = "SUBMITTING"
    WORKING = "WORKING"
    CANCELING = "CANCELING"
    DONE = "DONE"


class SlotEvent(StrEnum):
    SUBMIT_ACKED = "SUBMIT_ACKED"  # the broker answered a submit, or a look-up found the order
    SUBMIT_UNKNOWN = "SUBMIT_UNKNOWN"  # lost response / duplicate id: outcome to be looked up
    SUBMIT_REFUSED = "SUBMIT_REFUSED"  # the broker refused the order: nothing was booked
    LOOKUP_GAVE_UP = "LOOKUP_GAVE_UP"  # bounded look-ups never found it; the item stops
    CANCEL_SENT = "CANCEL_SENT"
    SEEN_LIVE = "SEEN_LIVE"  # a broker answer shows a live order of the item
    ALL_TERMINAL = "ALL_TERMINAL"  # a broker answer shows every order of the item terminal
    SETTLED = "SETTLED"  # nothing live and nothing worth sending remains


TERMINAL_SLOTS: Final = frozenset({Slot.DONE})
# Transitional: a request is out and the broker's answer (a listing or look-up) is awaited.
TRANSITIONAL_SLOTS: Final = frozenset({Slot.SUBMITTING, Slot.CANCELING})
# Something of the item may be at the broker and not final: listed every tick, wound down.
IN_FLIGHT_SLOTS: Final = frozenset({Slot.SUBMITTING, Slot.WORKING, Slot.CANCELING})

_S, _E = Slot, SlotEvent
_TABLE: Final[dict[tuple[Slot, SlotEvent], Slot]] = {
    (_S.IDLE, _E.SUBMIT_ACKED): _S.WORKING,
    (_S.IDLE, _E.SUBMIT_UNKNOWN): _S.SUBMITTING,
    (_S.IDLE, _E.SUBMIT_REFUSED): _S.IDLE,
    (_S.IDLE, _E.ALL_TERMINAL): _S.IDLE,
    # An order the item did not expect to be live (found late, or left by an earlier attempt):
    # it is cancelled, never worked on, since it was not sized from final fills.
    (_S.IDLE, _E.SEEN_LIVE): _S.CANCELING,
    (_S.IDLE, _E.SETTLED): _S.DONE,
    (_S.SUBMITTING, _E.SUBMIT_ACKED): _S.WORKING,
    (_S.SUBMITTING, _E.SEEN_LIVE): _S.WORKING,
    (_S.SUBMITTING, _E.SUBMIT_UNKNOWN): _S.SUBMITTING,
    (_S.SUBMITTING, _E.SUBMIT_REFUSED): _S.IDLE,
    (_S.SUBMITTING, _E.LOOKUP_GAVE_UP): _S.IDLE,
    (_S.WORKING, _E.SEEN_LIVE): _S.WORKING,
    (_S.WORKING, _E.CANCEL_SENT): _S.CANCELING,
    (_S.WORKING, _E.ALL_TERMINAL): _S.IDLE,
    (_S.CANCELING, _E.SEEN_LIVE): _S.CANCELING,
    (_S.CANCELING, _E.CANCEL_SENT): _S.CANCELING,
    (_S.CANCELING, _E.ALL_TERMINAL): _S.IDLE,
}


class InvalidTransitionError(RuntimeError):
    """An event the slot's state does not allow: a bug in the executor, never broker data."""


def next_slot(slot: Slot, event: SlotEvent) -> Slot:
    """The slot after ``event``; raises InvalidTransitionError when the table has no entry."""
    try:
        return _TABLE[(slot, event)]
    except KeyError:
        raise InvalidTransitionError(f"{event.value} is not allowed in {slot.value}") from None
