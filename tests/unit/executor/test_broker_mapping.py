"""Alpaca's overloaded error codes and its order statuses, mapped by status, code and message
(alpaca-behaviour.md rows 6 and 8; SPEC §4.6)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest
import requests
from alpaca.common.exceptions import APIError

from rebalance_executor.adapters.alpaca_mapping import map_api_error, order_from_json, order_status
from rebalance_executor.domain.broker import (
    TERMINAL_STATUSES,
    DuplicateClientOrderIdError,
    InsufficientBuyingPowerError,
    InsufficientQtyError,
    OrderRefusedError,
    OrderStatus,
    PatternDayTraderError,
    WashTradeError,
)


def api_error(status: int, code: int, message: str) -> APIError:
    body = f'{{"code": {code}, "message": "{message}"}}'
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    return APIError(body, requests.HTTPError(response=response))  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (422, 40010001, "client_order_id must be unique", DuplicateClientOrderIdError),
        (422, 40010001, "asset XYZ is not active", OrderRefusedError),
        (
            422,
            40010001,
            "client_order_id must be no more than 128 characters",
            OrderRefusedError,
        ),
        (422, 42210000, "invalid limit_price 10.001. sub-penny increment", OrderRefusedError),
        (422, 42210000, "asset not found", OrderRefusedError),
        (403, 40310000, "insufficient buying power", InsufficientBuyingPowerError),
        (
            403,
            40310000,
            "insufficient qty available for order (requested: 80, available: 50)",
            InsufficientQtyError,
        ),
        (403, 40310000, "potential wash trade detected. use complex orders", WashTradeError),
        (422, 42210000, "potential wash trade detected. use complex orders", WashTradeError),
        (
            403,
            40310100,
            "trade denied due to pattern day trading protection",
            PatternDayTraderError,
        ),
    ],
)
def test_overloaded_codes_are_told_apart_by_message(
    status: int, code: int, message: str, expected: type[Exception]
) -> None:
    error = map_api_error(api_error(status, code, message))
    assert type(error) is expected
    assert message in str(error)  # the broker's words reach the item's reason detail


def test_only_the_unique_id_message_means_already_submitted() -> None:
    refusals = ["asset XYZ is not active", "qty must be > 0", ""]
    for message in refusals:
        error = map_api_error(api_error(422, 40010001, message))
        assert not isinstance(error, DuplicateClientOrderIdError), message


@pytest.mark.parametrize("status", [s.value for s in OrderStatus if s is not OrderStatus.UNKNOWN])
def test_every_alpaca_status_is_known(status: str) -> None:
    assert order_status(status).value == status


def test_live_and_terminal_statuses_follow_alpacas_guide() -> None:
    assert not OrderStatus.STOPPED.is_terminal  # a fill is guaranteed but has not happened
    for live in ("held", "pending_review", "accepted_for_bidding", "suspended", "pending_cancel"):
        assert not OrderStatus(live).is_terminal
    assert {s.value for s in TERMINAL_STATUSES} == {
        "calculated",
        "done_for_day",
        "filled",
        "canceled",
        "expired",
        "replaced",
        "rejected",
    }


def test_an_unknown_status_is_live_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        first = order_status("parked_for_lunch")
        again = order_status("parked_for_lunch")
    assert first is again is OrderStatus.UNKNOWN
    assert not first.is_terminal
    assert [r.getMessage() for r in caplog.records].count("unknown_order_status") == 1


def raw_order(status: str) -> dict[str, object]:
    """An order as Alpaca's JSON carries it (fields of the OpenAPI order schema)."""
    return {
        "id": str(uuid.uuid4()),
        "client_order_id": "k-0-0",
        "created_at": datetime(2026, 3, 2, 15, tzinfo=UTC).isoformat(),
        "updated_at": datetime(2026, 3, 2, 15, tzinfo=UTC).isoformat(),
        "submitted_at": datetime(2026, 3, 2, 15, tzinfo=UTC).isoformat(),
        "filled_at": None,
        "expired_at": None,
        "canceled_at": None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": str(uuid.uuid4()),
        "symbol": "AAA",
        "asset_class": "us_equity",
        "notional": None,
        "qty": "10",
        "filled_qty": "0",
        "filled_avg_price": None,
        "order_class": "simple",
        "order_type": "limit",
        "type": "limit",
        "side": "buy",
        "time_in_force": "day",
        "limit_price": "10.00",
        "stop_price": None,
        "status": status,
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }


@pytest.mark.parametrize("status", ["held", "pending_review", "stopped", "calculated"])
def test_orders_in_rare_statuses_map_without_error(status: str) -> None:
    assert order_from_json(raw_order(status)).status.value == status


def test_an_order_in_a_status_alpaca_py_does_not_know_reads_as_live() -> None:
    order = order_from_json(raw_order("parked_for_lunch"))
    assert order.status is OrderStatus.UNKNOWN
    assert not order.status.is_terminal
    assert order.qty == 10
    assert order.symbol == "AAA"
