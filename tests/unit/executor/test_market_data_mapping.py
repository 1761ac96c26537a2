"""alpaca-py trade and bar models (parsed from Alpaca's wire format) -> domain values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from alpaca.data.models import Bar as AlpacaBar
from alpaca.data.models import Trade as AlpacaTrade

from rebalance_executor.adapters.alpaca_mapping import to_bar, to_trade


def test_trade_maps_exact_decimal_price_and_utc_time() -> None:
    raw = {"t": "2026-03-02T15:00:01.5Z", "x": "V", "p": 100.07, "s": 25, "i": 7, "z": "C"}
    trade = to_trade("AAA", AlpacaTrade("AAA", raw))
    assert trade.price == Decimal("100.07")
    assert trade.size == Decimal("25")
    assert trade.timestamp == datetime(2026, 3, 2, 15, 0, 1, 500000, tzinfo=UTC)


def test_bar_maps_ohlc_and_start_time() -> None:
    raw = {
        "t": "2026-03-02T14:59:00Z",
        "o": 100.0,
        "h": 100.2,
        "l": 99.9,
        "c": 100.1,
        "v": 1200,
        "n": 40,  # alpaca-py 0.44 requires trade count and vwap in a bar
        "vw": 100.05,
    }
    bar = to_bar("AAA", AlpacaBar("AAA", raw))
    assert (bar.open, bar.high, bar.low, bar.close) == (
        Decimal("100.0"),
        Decimal("100.2"),
        Decimal("99.9"),
        Decimal("100.1"),
    )
    assert bar.volume == Decimal("1200")
    assert bar.timestamp == datetime(2026, 3, 2, 14, 59, tzinfo=UTC)
