"""The alpaca-py stream adapter's pure parts: URLs derived from the REST override, and a raw
``trade_updates`` message read into a domain update (an unknown status reads as live)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from rebalance_executor.adapters.alpaca_streams import AlpacaStreams, stream_urls, trade_update
from rebalance_executor.domain.broker import OrderStatus
from rebalance_executor.domain.clock import SystemClock

NOW = datetime(2026, 3, 2, 15, 0, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (None, (None, None)),
        ("http://127.0.0.1:8765", ("ws://127.0.0.1:8765/stream", "ws://127.0.0.1:8765/v2/iex")),
        (
            "https://sim.example/api",
            ("wss://sim.example/api/stream", "wss://sim.example/api/v2/iex"),
        ),
    ],
)
def test_stream_urls_follow_the_rest_override(
    base: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert stream_urls(base, "iex") == expected


def _message(status: str, event: str) -> dict[str, object]:
    return {
        "stream": "trade_updates",
        "data": {
            "event": event,
            "timestamp": "2026-03-02T15:00:01.123456789Z",
            "qty": "3",
            "price": "100.01",
            "order": {
                "id": "61e69015-8549-4bfd-b9c3-01e75843f47d",
                "client_order_id": "abc-0-0",
                "created_at": "2026-03-02T15:00:00Z",
                "updated_at": "2026-03-02T15:00:01Z",
                "submitted_at": "2026-03-02T15:00:00Z",
                "filled_at": None,
                "symbol": "AAA",
                "asset_class": "us_equity",
                "qty": "10",
                "filled_qty": "3",
                "filled_avg_price": "100.01",
                "order_class": "simple",
                "order_type": "limit",
                "type": "limit",
                "side": "buy",
                "time_in_force": "day",
                "limit_price": "100.01",
                "status": status,
                "extended_hours": False,
            },
        },
    }


def test_a_partial_fill_message_reads_as_an_update() -> None:
    update = trade_update(_message("partially_filled", "partial_fill"), received_at=NOW)

    assert update.event == "partial_fill"
    assert update.order.status is OrderStatus.PARTIALLY_FILLED
    assert update.order.filled_qty == Decimal(3)
    assert update.fill_qty == Decimal(3)
    assert update.fill_price == Decimal("100.01")
    assert update.at.tzinfo is not None
    assert update.at.astimezone(UTC).replace(microsecond=0) == datetime(
        2026, 3, 2, 15, 0, 1, tzinfo=UTC
    )


def test_an_unknown_status_reads_as_live() -> None:
    update = trade_update(_message("brand_new_status", "restated"), received_at=NOW)

    assert update.order.status is OrderStatus.UNKNOWN
    assert not update.order.status.is_terminal


def test_a_message_without_an_order_is_refused() -> None:
    with pytest.raises(KeyError):
        trade_update({"stream": "trade_updates", "data": {"event": "fill"}}, received_at=NOW)


def test_a_feed_alpaca_py_cannot_stream_leaves_quotes_to_rest() -> None:
    streams = AlpacaStreams(
        api_key="k",
        secret_key="s",
        paper=True,
        trading_url="ws://127.0.0.1:9/stream",
        data_url=None,
        feed="delayed_sip",
        clock=SystemClock(),
    )

    health = streams.health()
    assert not health.quotes_connected
    assert not health.trading_connected
    assert streams.drain_quotes() == {}
