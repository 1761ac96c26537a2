"""Pieces of the alpaca-py adapter that need no server: rate limiter, error and value mapping."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import requests
from alpaca.common.exceptions import APIError

from rebalance_executor.adapters.alpaca_http import MIN_TIMEOUT_S, TimeoutSession
from rebalance_executor.adapters.alpaca_mapping import (
    dec,
    is_transient_status,
    map_api_error,
    price_to_float,
    qty_to_float,
)
from rebalance_executor.adapters.rate_limiter import TokenBucket
from rebalance_executor.domain.broker import (
    BrokerAuthError,
    BrokerRequestError,
    DuplicateClientOrderIdError,
    InsufficientBuyingPowerError,
    OrderNotFoundError,
    OrderRefusedError,
)
from tests.fakes.broker import VirtualClock


def api_error(status: int, body: str) -> APIError:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    return APIError(body, requests.HTTPError(response=response))  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            422,
            '{"code": 40010001, "message": "client_order_id must be unique"}',
            DuplicateClientOrderIdError,
        ),
        (
            403,
            '{"code": 40310000, "message": "insufficient buying power"}',
            InsufficientBuyingPowerError,
        ),
        (403, '{"code": 40310001, "message": "forbidden"}', BrokerAuthError),
        (401, '{"message": "unauthorized"}', BrokerAuthError),
        (404, '{"code": 40410000, "message": "order not found"}', OrderNotFoundError),
        # any 422 is a refusal of that order (never "already submitted" unless it says so)
        (422, "not json at all", OrderRefusedError),
    ],
)
def test_api_errors_map_to_typed_errors(status: int, body: str, expected: type[Exception]) -> None:
    error = map_api_error(api_error(status, body))
    assert type(error) is expected
    assert isinstance(error, BrokerRequestError)
    assert error.status == status


def test_transient_statuses() -> None:
    assert is_transient_status(429)
    assert is_transient_status(503)
    assert is_transient_status(None)
    assert not is_transient_status(422)
    assert not is_transient_status(404)


def test_decimal_float_boundary_rounds_safely() -> None:
    assert dec(0.1) == Decimal("0.1")
    assert dec("12.345") == Decimal("12.345")
    with pytest.raises(ValueError, match="finite"):
        dec("NaN")
    assert qty_to_float(Decimal("1.0000000019")) == 1.000000001  # down: never send more
    assert price_to_float(Decimal("10.00016")) == 10.0002


def test_token_bucket_never_exceeds_the_per_minute_cap_in_any_window() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(clock, per_minute=180)
    stamps: list[float] = []

    async def drain() -> None:
        for _ in range(500):
            await bucket.acquire()
            stamps.append(clock.monotonic())

    asyncio.run(drain())
    worst = max(sum(1 for t in stamps if start <= t < start + 60.0) for start in stamps)
    assert worst <= 180
    assert stamps[29] == 0.0  # the burst goes out at once
    assert stamps[-1] < 60.0 * 500 / 150 + 1  # and the steady rate is not slower than needed
    with pytest.raises(ValueError, match="at least 2"):
        TokenBucket(clock, per_minute=1)


def test_http_timeout_shrinks_to_the_deadline_but_never_below_the_floor() -> None:
    budget = [100.0]
    session = TimeoutSession(10.0, lambda: budget[0])
    assert session.current_timeout_s() == 10.0
    budget[0] = 3.0
    assert session.current_timeout_s() == 3.0
    budget[0] = -5.0
    assert session.current_timeout_s() == MIN_TIMEOUT_S
    assert TimeoutSession(10.0).current_timeout_s() == 10.0
