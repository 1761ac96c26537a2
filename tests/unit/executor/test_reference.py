"""Reference prices (SPEC §4.4): quote mid, else a fresh trade inside the last bar, else none."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import Bar, Quote, Trade
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.result import ItemReference, ReferenceSource
from rebalance_executor.executor.reference import (
    RECENT_BAR_MINUTES,
    read_references,
    trade_reference,
)
from rebalance_executor.executor.sizing import quote_reference
from tests.fakes.broker import T0, FakeBroker, VirtualClock

D = Decimal
CONFIG = ExecutionConfig(quote_max_age_s=10.0)


def trade(price: str, age_s: float = 1.0) -> Trade:
    return Trade(symbol="AAA", price=D(price), timestamp=T0 - timedelta(seconds=age_s))


def bar(low: str, high: str, age_min: float = 1.0) -> Bar:
    return Bar(
        symbol="AAA",
        timestamp=T0 - timedelta(minutes=age_min),
        open=D(low),
        high=D(high),
        low=D(low),
        close=D(high),
    )


def test_a_fresh_trade_inside_the_last_bar_is_the_reference() -> None:
    ref = trade_reference(trade("100.05"), [bar("99.90", "100.10")], T0, CONFIG, "no bid")
    assert ref.source is ReferenceSource.TRADE
    assert ref.price == D("100.05")
    assert ref.at == T0 - timedelta(seconds=1)
    assert ref.detail == "no bid"  # why the quote could not be used is kept


def test_the_latest_bar_is_the_check() -> None:
    bars = [bar("90.00", "91.00", age_min=2), bar("99.90", "100.10", age_min=1)]
    assert trade_reference(trade("100.00"), bars, T0, CONFIG).price == D("100.00")
    assert trade_reference(trade("90.50"), bars, T0, CONFIG).price is None


@pytest.mark.parametrize(
    ("price", "accepted"),
    [
        ("100.25", True),  # high 100 x (1 + 25 bps)
        ("100.26", False),
        ("99.75", True),  # low 100 x (1 - 25 bps)
        ("99.74", False),
    ],
)
def test_trade_outside_the_bar_plus_margin_is_refused(price: str, accepted: bool) -> None:
    ref = trade_reference(trade(price), [bar("100.00", "100.00")], T0, CONFIG)
    assert (ref.price is not None) is accepted
    if not accepted:
        assert ref.source is ReferenceSource.NONE
        assert ref.detail is not None
        assert "outside the last bar's range" in ref.detail


def test_stale_trade_is_refused_never_used() -> None:
    ref = trade_reference(
        trade("100.00", age_s=10.5), [bar("99", "101")], T0, CONFIG, "stale quote"
    )
    assert ref.source is ReferenceSource.NONE
    assert ref.price is None
    assert ref.detail is not None
    assert ref.detail.startswith("stale quote; latest trade is 10.5s old")


def test_no_trade_or_no_recent_bar_gives_no_reference() -> None:
    assert trade_reference(None, [bar("99", "101")], T0, CONFIG).price is None
    too_old = [bar("99", "101", age_min=RECENT_BAR_MINUTES + 1)]
    ref = trade_reference(trade("100"), too_old, T0, CONFIG)
    assert ref.price is None
    assert ref.detail is not None
    assert "no 1-minute bar" in ref.detail
    assert trade_reference(trade("100"), [], T0, CONFIG).price is None


def q(bid: str, ask: str, age_s: float = 0.0) -> Quote:
    return Quote(symbol="AAA", bid=D(bid), ask=D(ask), timestamp=T0 - timedelta(seconds=age_s))


def test_quote_reference_is_the_mid_of_a_usable_quote_only() -> None:
    good = quote_reference(q("99.99", "100.01"), T0, CONFIG)
    assert (good.source, good.price, good.at) == (ReferenceSource.QUOTE, D("100.00"), T0)
    for bad in (q("0", "100.01"), q("99.99", "0"), q("99.99", "100.01", age_s=11), None):
        ref = quote_reference(bad, T0, CONFIG)
        assert ref == ItemReference(source=ReferenceSource.NONE, detail=ref.detail)
        assert ref.detail


def fake() -> FakeBroker:
    broker = FakeBroker(clock=VirtualClock())
    for symbol in ("AAA", "BBB", "CCC"):
        broker.quote(symbol, "99.99", "100.01")
        broker.trade(symbol, "100.02", age_s=2)
        broker.bar(symbol, "99.90", "100.10")
    return broker


def read(broker: FakeBroker, symbols: set[str]) -> dict[str, ItemReference]:
    async def go() -> dict[str, ItemReference]:
        quotes = await broker.get_latest_quotes(symbols)
        return await read_references(broker, quotes, symbols, now=T0, config=CONFIG)

    return asyncio.run(go())


def test_usable_quotes_cost_no_trade_or_bar_request() -> None:
    broker = fake()
    refs = read(broker, {"AAA", "BBB"})
    assert {r.source for r in refs.values()} == {ReferenceSource.QUOTE}
    assert broker.calls == ["get_latest_quotes"]


def test_only_unusable_quotes_fall_back_with_one_request_each() -> None:
    broker = fake()
    broker.feed_quote("AAA", "0", "100.03")  # one-sided
    broker.feed_quote("BBB", "99.99", "100.01", age_s=30)  # stale
    broker.trade("BBB", "100.02", age_s=30)  # stale trade too: no bars needed for it
    refs = read(broker, {"AAA", "BBB", "CCC"})
    assert broker.calls == ["get_latest_quotes", "get_latest_trades", "get_recent_bars"]
    assert (refs["AAA"].source, refs["AAA"].price) == (ReferenceSource.TRADE, D("100.02"))
    assert refs["BBB"].source is ReferenceSource.NONE
    assert refs["CCC"].source is ReferenceSource.QUOTE


def test_failed_fallback_reads_leave_those_symbols_without_a_reference() -> None:
    broker = fake()
    broker.feed_quote("AAA", "0", "100.03")

    async def go() -> dict[str, ItemReference]:
        quotes = await broker.get_latest_quotes({"AAA", "CCC"})
        broker.fail_reads = True
        return await read_references(broker, quotes, {"AAA", "CCC"}, now=T0, config=CONFIG)

    refs = asyncio.run(go())
    assert refs["AAA"].source is ReferenceSource.NONE
    assert refs["AAA"].detail is not None
    assert "trade/bar read failed" in refs["AAA"].detail
    assert refs["CCC"].source is ReferenceSource.QUOTE


def test_a_fresh_wide_quote_does_not_fall_back_to_a_trade() -> None:
    broker = fake()
    broker.feed_quote("AAA", "98.00", "102.00")  # ~400 bps: the market says it is wide
    refs = read(broker, {"AAA"})
    assert refs["AAA"].source is ReferenceSource.NONE
    assert refs["AAA"].detail is not None
    assert refs["AAA"].detail.startswith("spread")
    assert broker.calls == ["get_latest_quotes"]


def test_a_crossed_quote_falls_back_to_a_trade() -> None:
    broker = fake()
    broker.feed_quote("AAA", "100.05", "100.00")
    assert read(broker, {"AAA"})["AAA"].source is ReferenceSource.TRADE
