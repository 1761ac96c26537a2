"""The adapter's trade and bar reads (real alpaca-py against the simulator): one request each,
on the configured feed, mapped to domain values."""

from __future__ import annotations

import asyncio

from alpaca_sim.testing import RunningSimulator
from tests.integration.executor.harness import Harness


def test_latest_trades_one_request_for_every_symbol(sim: RunningSimulator) -> None:
    broker = Harness.start(sim).broker()
    before = broker.request_count()
    trades = asyncio.run(broker.get_latest_trades(["SPY", "TLT"]))
    assert broker.request_count() - before == 1
    assert set(trades) == {"SPY", "TLT"}
    for symbol, trade in trades.items():
        assert trade.symbol == symbol
        assert trade.price > 0
        assert trade.timestamp.utcoffset() is not None


def test_recent_bars_one_request_oldest_first(sim: RunningSimulator) -> None:
    broker = Harness.start(sim).broker()
    before = broker.request_count()
    # the default iex feed sees few trades (so few 1-minute bars): read the session's pre-history
    bars = asyncio.run(broker.get_recent_bars(["SPY", "TLT"], minutes=390))
    assert broker.request_count() - before == 1
    assert set(bars) == {"SPY", "TLT"}
    for series in bars.values():
        assert series
        assert [b.timestamp for b in series] == sorted(b.timestamp for b in series)
        assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in series)
