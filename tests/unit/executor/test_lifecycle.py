"""The item slot's transition table (executor/lifecycle.py): an order is sent only from IDLE,
which only a broker answer showing every order terminal (or nothing booked) leads back to."""

from __future__ import annotations

import pytest

from rebalance_executor.executor.lifecycle import (
    TERMINAL_SLOTS,
    TRANSITIONAL_SLOTS,
    InvalidTransitionError,
    Slot,
    SlotEvent,
    next_slot,
)


def test_a_reprice_goes_through_canceling_and_back_to_idle_only_when_all_is_terminal() -> None:
    slot = next_slot(Slot.IDLE, SlotEvent.SUBMIT_ACKED)
    assert slot is Slot.WORKING
    slot = next_slot(slot, SlotEvent.CANCEL_SENT)
    assert slot is Slot.CANCELING
    assert next_slot(slot, SlotEvent.SEEN_LIVE) is Slot.CANCELING  # pending_cancel: still live
    assert next_slot(slot, SlotEvent.ALL_TERMINAL) is Slot.IDLE


def test_an_unknown_submit_allows_nothing_but_its_resolution() -> None:
    slot = next_slot(Slot.IDLE, SlotEvent.SUBMIT_UNKNOWN)
    assert slot in TRANSITIONAL_SLOTS
    assert next_slot(slot, SlotEvent.SEEN_LIVE) is Slot.WORKING
    assert next_slot(slot, SlotEvent.LOOKUP_GAVE_UP) is Slot.IDLE
    for event in (SlotEvent.CANCEL_SENT, SlotEvent.SETTLED, SlotEvent.ALL_TERMINAL):
        with pytest.raises(InvalidTransitionError):
            next_slot(slot, event)


def test_only_idle_reaches_done_and_done_has_no_way_out() -> None:
    reaching_done = [
        slot
        for slot in Slot
        for event in SlotEvent
        if _maybe(slot, event) is Slot.DONE and slot is not Slot.DONE
    ]
    assert reaching_done == [Slot.IDLE]
    assert {Slot.DONE} == TERMINAL_SLOTS
    for event in SlotEvent:
        with pytest.raises(InvalidTransitionError):
            next_slot(Slot.DONE, event)


def test_an_unexpected_live_order_in_idle_is_cancelled_not_worked() -> None:
    assert next_slot(Slot.IDLE, SlotEvent.SEEN_LIVE) is Slot.CANCELING


def test_no_submit_is_acknowledged_while_an_order_is_working_or_canceling() -> None:
    for slot in (Slot.WORKING, Slot.CANCELING):
        for event in (SlotEvent.SUBMIT_ACKED, SlotEvent.SUBMIT_UNKNOWN):
            with pytest.raises(InvalidTransitionError):
                next_slot(slot, event)


def _maybe(slot: Slot, event: SlotEvent) -> Slot | None:
    try:
        return next_slot(slot, event)
    except InvalidTransitionError:
        return None
