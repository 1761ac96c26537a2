"""Golden tests of alpaca-behaviour.md row 10 (market-data feeds), through the real alpaca-py.

sip quotes are the NBBO orders fill against; iex quotes are one venue's: wider, sometimes
one-sided (0 bid or ask), sometimes stale; unknown feeds and sip without a subscription are
refused; trades trade at the touch of the quote path; bars reach back before the start.
"""

from __future__ import annotations

import bisect
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestQuoteRequest, StockLatestTradeRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.enums import OrderSide

from alpaca_sim.history import PREHISTORY_MINUTES
from alpaca_sim.scenario import MarketDataSpec, default_scenario
from alpaca_sim.testing import RunningSimulator
from tests.fixtures.sim import SimFactory
from tests.integration.sim.helpers import limit_order, market_order, paused

WINDOW_S = 1800
POLL_S = 10
# no-bid / no-ask and quiet spells come about once an hour per symbol: a long seeded window
LONG_WINDOW_S = 4 * 3600
LONG_POLL_S = 20
STALE_S = 10


def _data_client(sim: RunningSimulator, keys: tuple[str, str]) -> Any:
    return StockHistoricalDataClient(*keys, url_override=sim.base_url)


def _iex_path(sim: RunningSimulator, keys: tuple[str, str]) -> list[tuple[Any, ...]]:
    """The latest SPY iex quote every POLL_S simulated seconds over WINDOW_S (times relative to
    the simulator's start, since two simulators start at different wall times)."""
    client, start = _data_client(sim, keys), sim.clock.at(0)
    seen = []
    for _ in range(WINDOW_S // POLL_S):
        sim.control.advance_time(POLL_S)
        request = StockLatestQuoteRequest(symbol_or_symbols="SPY", feed=DataFeed.IEX)
        q = client.get_stock_latest_quote(request)["SPY"]
        seen.append((q.timestamp - start, q.bid_price, q.bid_size, q.ask_price, q.ask_size))
    return seen


def _poll_both(client: Any, sim: RunningSimulator) -> list[tuple[Any, Any, Any]]:
    """(sip quote, iex quote, simulator NBBO) at each poll of the long window."""
    seen = []
    for _ in range(LONG_WINDOW_S // LONG_POLL_S):
        sim.control.advance_time(LONG_POLL_S)
        sip = client.get_stock_latest_quote(
            StockLatestQuoteRequest(symbol_or_symbols="SPY", feed=DataFeed.SIP)
        )
        iex = client.get_stock_latest_quote(
            StockLatestQuoteRequest(symbol_or_symbols="SPY", feed=DataFeed.IEX)
        )
        seen.append((sip["SPY"], iex["SPY"], sim.control.quote("SPY")))
    return seen


def test_sip_is_the_nbbo_and_iex_is_a_wider_sometimes_one_sided_sometimes_stale_venue(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    sim, _ = paused(sim_factory, sim_keys, seed=5)
    seen = _poll_both(_data_client(sim, sim_keys), sim)
    for sip, _, nbbo in seen:
        assert (Decimal(str(sip.bid_price)), Decimal(str(sip.ask_price))) == (nbbo.bid, nbbo.ask)
        assert sip.timestamp == nbbo.at
    two_sided = [(s, i) for s, i, _ in seen if i.bid_price > 0 and i.ask_price > 0]
    one_sided = [i for _, i, _ in seen if i.bid_price == 0 or i.ask_price == 0]
    stale = [i for s, i, _ in seen if i.timestamp <= s.timestamp - timedelta(seconds=STALE_S)]
    assert one_sided, "no one-sided iex quote in the window"
    assert all(q.bid_size == 0 for q in one_sided if q.bid_price == 0)
    assert stale, "no stale iex quote in the window"
    assert len(one_sided) + len(stale) < len(seen) * 0.1, "sometimes, not routinely"
    assert sum(i.ask_price - i.bid_price for _, i in two_sided) > sum(
        s.ask_price - s.bid_price for s, _ in two_sided
    )
    assert any(i.bid_price != s.bid_price or i.ask_price != s.ask_price for s, i in two_sided)
    assert {i.bid_exchange for _, i in two_sided} == {"V"}


def test_iex_quotes_are_the_same_whatever_the_orders(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    quiet, _ = paused(sim_factory, sim_keys, seed=9)
    busy, trading = paused(sim_factory, sim_keys, seed=9)
    trading.submit_order(limit_order("SPY", 10, OrderSide.BUY, Decimal("499.00")))
    trading.submit_order(market_order("SPY", 5, OrderSide.BUY))
    assert _iex_path(quiet, sim_keys) == _iex_path(busy, sim_keys)


def test_unknown_feed_is_refused(sim_factory: SimFactory, sim_keys: tuple[str, str]) -> None:
    sim = sim_factory()
    headers = {"APCA-API-KEY-ID": sim_keys[0], "APCA-API-SECRET-KEY": sim_keys[1]}
    for path in ("/v2/stocks/quotes/latest", "/v2/stocks/trades/latest", "/v2/stocks/bars"):
        params = {"symbols": "SPY", "feed": "nasdaq", "timeframe": "1Min"}
        response = requests.get(sim.base_url + path, params=params, headers=headers, timeout=10)
        assert response.status_code == 400
        assert response.json() == {"code": 40010000, "message": "invalid feed"}


def test_sip_without_a_subscription_is_403_and_the_default_feed_is_iex(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    scenario = default_scenario().model_copy(
        update={"market_data": MarketDataSpec(sip_entitled=False)}
    )
    client = _data_client(sim_factory(scenario=scenario), sim_keys)
    with pytest.raises(APIError) as refused:
        client.get_stock_latest_quote(
            StockLatestQuoteRequest(symbol_or_symbols="SPY", feed=DataFeed.SIP)
        )
    assert refused.value.status_code == 403
    assert "subscription does not permit querying recent SIP data" in str(refused.value)
    quote = client.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="SPY"))["SPY"]
    assert quote.bid_exchange in {"V", ""}
    assert quote.ask_exchange in {"V", ""}


def test_entitled_default_feed_is_sip(sim_factory: SimFactory, sim_keys: tuple[str, str]) -> None:
    sim, _ = paused(sim_factory, sim_keys, seed=2)
    quote = _data_client(sim, sim_keys).get_stock_latest_quote(
        StockLatestQuoteRequest(symbol_or_symbols="SPY")
    )
    nbbo = sim.control.quote("SPY")
    assert (Decimal(str(quote["SPY"].bid_price)), Decimal(str(quote["SPY"].ask_price))) == (
        nbbo.bid,
        nbbo.ask,
    )


def test_latest_trade_prints_at_the_touch_the_takers_hit(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    sim, _ = paused(sim_factory, sim_keys, seed=4)
    sim.control.advance_time(1200)
    client = _data_client(sim, sim_keys)
    request = StockLatestTradeRequest(symbol_or_symbols=["SPY", "AAPL"], feed=DataFeed.SIP)
    trades = client.get_stock_latest_trade(request)
    path = sim.control.quote_path("SPY")
    trade = trades["SPY"]
    assert trade.timestamp > path[0].at, "the latest trade should be live after 20 minutes"
    # a step's takers trade against the quote in force during it: the last one before the
    # step (sellers print at the step's instant, buyers 1 µs later)
    index = bisect.bisect_left([q.at for q in path], trade.timestamp - timedelta(microseconds=1))
    assert Decimal(str(trade.price)) in (path[index - 1].bid, path[index - 1].ask)
    assert trade.size >= 1
    iex = client.get_stock_latest_trade(
        StockLatestTradeRequest(symbol_or_symbols="SPY", feed=DataFeed.IEX)
    )
    assert iex["SPY"].exchange == "V"
    assert iex["SPY"].timestamp <= trade.timestamp


def test_bars_reach_back_before_the_start_and_join_the_live_path(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    sim, _ = paused(sim_factory, sim_keys, seed=6)
    first = sim.control.quote_path("SPY")[0]
    sim.control.advance_time(3600)
    request = StockBarsRequest(
        symbol_or_symbols="SPY", timeframe=TimeFrame.Minute, start=first.at - timedelta(hours=7)
    )
    bars = _data_client(sim, sim_keys).get_stock_bars(request)["SPY"]
    before = [b for b in bars if b.timestamp < first.at]
    after = [b for b in bars if b.timestamp >= first.at]
    assert before[0].timestamp >= first.at - timedelta(minutes=PREHISTORY_MINUTES)
    assert len(before) > PREHISTORY_MINUTES // 4
    assert after, "no live bar after an hour"
    assert abs(before[-1].close - float(first.mid)) / float(first.mid) < 0.002
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.volume > 0
        assert bar.trade_count >= 1
    assert [b.timestamp for b in bars] == sorted({b.timestamp for b in bars})


def test_bars_page_with_next_page_token(sim_factory: SimFactory, sim_keys: tuple[str, str]) -> None:
    sim, _ = paused(sim_factory, sim_keys, seed=6)
    headers = {"APCA-API-KEY-ID": sim_keys[0], "APCA-API-SECRET-KEY": sim_keys[1]}
    params: dict[str, str] = {"symbols": "SPY,QQQ", "timeframe": "1Min", "feed": "sip"}
    whole = requests.get(
        sim.base_url + "/v2/stocks/bars", params=params, headers=headers, timeout=10
    ).json()
    assert whole["next_page_token"] is None
    paged: dict[str, list[Any]] = {}
    token, pages = None, 0
    while pages == 0 or token is not None:
        page_params = {**params, "limit": "7", **({"page_token": token} if token else {})}
        page = requests.get(
            sim.base_url + "/v2/stocks/bars", params=page_params, headers=headers, timeout=10
        ).json()
        assert sum(len(v) for v in page["bars"].values()) <= 7
        for symbol, bars in page["bars"].items():
            paged.setdefault(symbol, []).extend(bars)
        token, pages = page["next_page_token"], pages + 1
    assert pages > 2
    assert paged == whole["bars"]
    assert list(whole["bars"]) == ["QQQ", "SPY"]
