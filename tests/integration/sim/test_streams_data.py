"""The market-data stream ``/v2/{feed}`` through alpaca-py's ``StockDataStream`` (msgpack, as it
speaks by default): quotes and trades as the market steps, agreeing with REST; subscribe and
unsubscribe; the iex view versus the sip NBBO."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.models import Bar, Quote, Trade
from alpaca.data.requests import (
    StockBarsRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
)
from alpaca.data.timeframe import TimeFrame

from alpaca_sim.scenario import default_scenario
from alpaca_sim.testing import RunningSimulator
from tests.fixtures.sim import SimFactory
from tests.integration.sim.helpers import PRINT_HEAVY
from tests.integration.sim.streams import market_data, wait_until


def _paused(factory: SimFactory, **scenario: Any) -> RunningSimulator:
    base = default_scenario()
    running = factory(scenario=base.model_copy(update=scenario) if scenario else None)
    running.control.pause_clock()
    return running


def _rest(running: RunningSimulator, keys: tuple[str, str]) -> Any:
    return StockHistoricalDataClient(*keys, url_override=running.base_url)


def test_sip_quotes_stream_every_step_and_match_rest_latest(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running = _paused(sim_factory)
    with market_data(running, *sim_keys, feed="sip", quotes=("SPY",)) as (_, received):
        running.control.advance_time(3)
        quotes = [received.next() for _ in range(3)]
        assert all(isinstance(q, Quote) and q.symbol == "SPY" for q in quotes)
        path = running.control.quote_path("SPY")[-3:]
        assert [Decimal(str(q.bid_price)) for q in quotes] == [p.bid for p in path]
        assert [q.timestamp for q in quotes] == [p.at for p in path]
        rest = _rest(running, sim_keys).get_stock_latest_quote(
            StockLatestQuoteRequest(symbol_or_symbols="SPY", feed="sip")
        )["SPY"]
        assert (rest.bid_price, rest.ask_price, rest.timestamp) == (
            quotes[-1].bid_price,
            quotes[-1].ask_price,
            quotes[-1].timestamp,
        )


def test_a_forced_quote_is_streamed(sim_factory: SimFactory, sim_keys: tuple[str, str]) -> None:
    running = _paused(sim_factory)
    running.control.freeze_market(True)
    with market_data(running, *sim_keys, quotes=("QQQ",)) as (_, received):
        running.control.advance_time(2)
        assert received.quiet(0.3) == []  # a frozen quote does not change: nothing to send
        running.control.set_quote("QQQ", Decimal("400.00"), Decimal("400.05"))
        quote = received.next()
        assert (quote.bid_price, quote.ask_price) == (400.0, 400.05)


def test_iex_quotes_are_the_iex_view_not_the_nbbo(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running = _paused(sim_factory)
    with market_data(running, *sim_keys, feed="iex", quotes=("SPY",)) as (_, received):
        running.control.advance_time(30)
        received.next()
        received.quiet(0.3)
        last = received.seen[-1]
        rest = _rest(running, sim_keys).get_stock_latest_quote(
            StockLatestQuoteRequest(symbol_or_symbols="SPY", feed="iex")
        )["SPY"]
        assert (rest.bid_price, rest.ask_price, rest.timestamp) == (
            last.bid_price,
            last.ask_price,
            last.timestamp,
        )
        assert {q.bid_exchange for q in received.seen if q.bid_price > 0} <= {"V"}


def test_trades_stream_from_the_tape_and_match_rest_latest(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running = _paused(sim_factory, symbols={"PRNT": PRINT_HEAVY})
    with market_data(running, *sim_keys, trades=("PRNT",)) as (_, received):
        running.control.advance_time(60)
        received.next()
        received.quiet(0.3)
        trades = received.seen
        assert all(isinstance(t, Trade) for t in trades)
        assert len(trades) >= 5  # 30 prints a minute
        rest = _rest(running, sim_keys).get_stock_latest_trade(
            StockLatestTradeRequest(symbol_or_symbols="PRNT", feed="sip")
        )["PRNT"]
        assert (rest.id, rest.price, rest.timestamp) == (
            trades[-1].id,
            trades[-1].price,
            trades[-1].timestamp,
        )


def test_iex_trades_are_only_the_iex_venue_prints(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running = _paused(sim_factory, symbols={"PRNT": PRINT_HEAVY})
    with market_data(running, *sim_keys, feed="iex", trades=("PRNT",)) as (_, received):
        running.control.advance_time(1800)
        received.quiet(0.5)
        assert received.seen, "30 prints a minute for 30 minutes reach IEX's 2.5 % share"
        assert {t.exchange for t in received.seen} == {"V"}


def test_unsubscribe_stops_a_symbol(sim_factory: SimFactory, sim_keys: tuple[str, str]) -> None:
    running = _paused(sim_factory)
    with market_data(running, *sim_keys, quotes=("SPY", "QQQ")) as (stream, received):
        running.control.advance_time(1)
        first = {received.next().symbol, received.next().symbol}
        assert first == {"SPY", "QQQ"}
        stream.unsubscribe_quotes("QQQ")
        wait_until(
            lambda: any(
                c.quotes == frozenset({"SPY"}) for c in running.control.stream_clients(sim_keys[0])
            ),
            "the unsubscribe",
        )
        running.control.advance_time(2)
        later = [received.next(), received.next()]
        assert {q.symbol for q in later} == {"SPY"}


def test_minute_bars_stream_when_the_minute_ends_and_match_rest_bars(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running = _paused(sim_factory, symbols={"PRNT": PRINT_HEAVY})
    with market_data(running, *sim_keys, bars=("PRNT",)) as (_, received):
        running.control.advance_time(30)
        assert received.quiet(0.3) == []  # the minute is not over yet
        running.control.advance_time(150)
        received.next()
        received.quiet(0.3)
        streamed = received.seen
        assert all(isinstance(b, Bar) for b in streamed)
        assert 2 <= len(streamed) <= 3  # the minutes that ended, each with prints
        rest = _rest(running, sim_keys).get_stock_bars(
            StockBarsRequest(
                symbol_or_symbols="PRNT",
                timeframe=TimeFrame.Minute,
                start=streamed[0].timestamp,
                end=streamed[-1].timestamp + timedelta(seconds=59),  # the whole last minute
                feed="sip",
            )
        )["PRNT"]
        assert [(b.timestamp, b.open, b.high, b.low, b.close, b.volume) for b in rest] == [
            (b.timestamp, b.open, b.high, b.low, b.close, b.volume) for b in streamed
        ]
