"""Unit tests of the simulator's market-data models: feed choice, the iex quote, the tape,
pre-history, bars and page tokens (pure functions; the HTTP side is in tests/integration/sim)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from alpaca_sim import feeds, history
from alpaca_sim.errors import ApiError
from alpaca_sim.market import SymbolMarket
from alpaca_sim.scenario import SymbolSpec
from alpaca_sim.schemas_data import page_token, paginate, read_page_token

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SPEC = SymbolSpec.model_validate({"price": 100, "spread_bps": 4, "trades_per_min": 6})


def _market(steps: int, seed: int = 1) -> SymbolMarket:
    market = SymbolMarket("XYZ", SPEC, seed, 1.0, T0)
    for step in range(1, steps + 1):
        market.step(step, T0 + timedelta(seconds=step), frozen=False)
    return market


def _time_of(step: int) -> datetime:
    return T0 + timedelta(seconds=step)


def _refused(call: object, status: int) -> ApiError:
    assert callable(call)
    with pytest.raises(ApiError) as refused:
        call()
    assert refused.value.status == status
    return refused.value


def test_feed_defaults_follow_the_subscription() -> None:
    assert feeds.resolve_feed(None, sip_entitled=True) == "sip"
    assert feeds.resolve_feed(None, sip_entitled=False) == "iex"
    assert feeds.resolve_feed("iex", sip_entitled=True) == "iex"


def test_feed_refusals() -> None:
    sip = _refused(lambda: feeds.resolve_feed("sip", sip_entitled=False), 403)
    assert sip.message == "subscription does not permit querying recent SIP data"
    assert feeds.resolve_feed("sip", sip_entitled=False, historical=True) == "sip"
    _refused(lambda: feeds.resolve_feed("otc", sip_entitled=True), 403)
    for unknown in ("nasdaq", "SIP", "delayed_sip"):
        bad = _refused(lambda f=unknown: feeds.resolve_feed(f, sip_entitled=True), 400)
        assert (bad.code, bad.message) == (40010000, "invalid feed")


def test_free_plan_reads_sip_history_only_older_than_15_minutes() -> None:
    now = T0 + timedelta(hours=1)
    feeds.check_recent_sip("sip", now - timedelta(minutes=16), now, sip_entitled=False)
    feeds.check_recent_sip("sip", now, now, sip_entitled=True)
    feeds.check_recent_sip("iex", now, now, sip_entitled=False)
    _refused(lambda: feeds.check_recent_sip("sip", now, now, sip_entitled=False), 403)


def test_iex_quote_sits_at_or_behind_the_nbbo_it_was_refreshed_from() -> None:
    market = _market(400)
    path = list(market.history)
    for step in range(200, 401, 7):
        market.quote = path[step]
        iex = feeds.iex_quote(market, 1, 1.0, _time_of)
        source = feeds.nbbo_at(market, iex.step)
        assert iex.step <= step
        assert iex.at == _time_of(iex.step)
        assert iex.bid == 0 or iex.bid <= source.bid
        assert iex.ask == 0 or iex.ask >= source.ask
        assert iex.bid_size <= source.bid_size
    assert feeds.nbbo_at(market, 150) is path[150]


def test_iex_quote_model_knobs() -> None:
    market = _market(600)
    # spells of 30 s starting once a minute per side: each side is absent about half the time
    often = feeds.IexModel(one_sided_per_s=1 / 60, one_sided_s=(30.0, 30.0))
    quotes = []
    path = list(market.history)
    for step in range(1, 601):
        market.quote = path[step]
        quotes.append(feeds.iex_quote(market, 1, 1.0, _time_of, often))
    no_bid = [q for q in quotes if q.bid == 0]
    assert 100 < len(no_bid) < 500
    assert all(q.bid_size == 0 for q in no_bid)
    assert any(q.bid == 0 and q.ask == 0 for q in quotes)
    assert any(q.bid > 0 and q.ask > 0 for q in quotes)
    market = _market(50)
    always_fresh = feeds.IexModel(
        refresh_per_s=1e6, quiet_per_s=0.0, one_sided_per_s=0.0, behind_ratio=0.0
    )
    fresh = feeds.iex_quote(market, 1, 1.0, _time_of, always_fresh)
    assert (fresh.step, fresh.bid, fresh.ask) == (50, market.quote.bid, market.quote.ask)


def test_iex_refresh_is_a_pure_function_and_stale_only_in_quiet_spells() -> None:
    steps = range(20_000)
    refreshed = [feeds.refresh_step(3, "XYZ", s, 1.0, feeds.IEX_MODEL) for s in steps]
    assert refreshed == [feeds.refresh_step(3, "XYZ", s, 1.0, feeds.IEX_MODEL) for s in steps]
    lags = [s - r for s, r in zip(steps, refreshed, strict=True)]
    assert min(lags) == 0
    assert max(lags) <= 121, "a quiet spell lasts at most 60 s, a normal gap at most 60 s"
    stale = sum(lag >= 10 for lag in lags)
    assert 0 < stale < len(lags) * 0.05, "stale sometimes (quiet spells), not routinely"


def test_spells_cover_their_duration_only() -> None:
    assert all(feeds.spell_start(("k",), s, 1.0, 0.0, (5.0, 30.0)) is None for s in range(1000))
    starts = [feeds.spell_start(("k", 2), s, 1.0, 1 / 600, (5.0, 30.0)) for s in range(36_000)]
    covered = [(s, st) for s, st in enumerate(starts) if st is not None]
    assert covered, "a spell every 10 minutes on average should occur in 10 hours"
    assert all(0 <= s - st < 30 for s, st in covered)
    spells = len({st for _, st in covered})
    assert 30 < spells < 90, f"about 60 spells expected in 10 hours, got {spells}"
    # spells last 5-30 s (17.5 s on average): about 3 % of the time is covered
    assert 0.01 < len(covered) / len(starts) < 0.06


def test_prehistory_ends_at_the_first_quote_and_is_deterministic() -> None:
    market = _market(0)
    first = market.first_quote
    pre = history.prehistory(1, "XYZ", SPEC, first)
    assert pre == history.prehistory.__wrapped__(1, "XYZ", SPEC, first)
    assert pre[0].at >= T0 - timedelta(minutes=history.PREHISTORY_MINUTES)
    assert pre[-1].at < T0
    assert [t.trade_id for t in pre] == sorted({t.trade_id for t in pre})
    assert abs(pre[-1].price - first.mid) / first.mid < Decimal("0.002")
    # 6 takers a minute for 390 minutes: 2,340 expected, Poisson sd ~48
    assert abs(sum(t.count for t in pre) - 2340) < 5 * 48


def test_live_trades_print_at_the_touch_the_takers_hit() -> None:
    market = _market(600)
    trades = history.live_trades(market, 1)
    assert trades
    # takers of a step trade against the quote in force during it: the previous step's
    quotes = {q.at + timedelta(seconds=1): q for q in market.history}
    for trade in trades:
        quote = quotes[trade.at.replace(microsecond=0)]
        assert trade.price == (quote.bid if trade.at.microsecond == 0 else quote.ask)
    iex = history.trades(market, 1, "iex")
    assert iex
    assert {t.venue for t in iex} == {"V"}
    assert len(iex) < len(history.trades(market, 1, "sip")) / 10


def test_parse_timeframe() -> None:
    assert history.parse_timeframe("1Min") == timedelta(minutes=1)
    assert history.parse_timeframe("15Min") == timedelta(minutes=15)
    assert history.parse_timeframe("2Hour") == timedelta(hours=2)
    assert history.parse_timeframe("1Day") == timedelta(days=1)
    for bad in ("60Min", "0Min", "2Day", "1Week", "Min", "x1Min", ""):
        assert history.parse_timeframe(bad) is None


def test_aggregate_builds_ohlcv_and_skips_empty_buckets() -> None:
    def trade(minute: float, price: str, size: int) -> history.SimTrade:
        return history.SimTrade(
            T0 + timedelta(minutes=minute), Decimal(price), Decimal(size), "D", 1
        )

    bars = history.aggregate(
        [trade(0.1, "10", 100), trade(0.5, "12", 100), trade(0.9, "11", 200), trade(2.5, "9", 50)],
        timedelta(minutes=1),
    )
    assert [b.at for b in bars] == [T0, T0 + timedelta(minutes=2)]
    first = bars[0]
    assert [first.open, first.high, first.low, first.close] == [
        Decimal(p) for p in (10, 12, 10, 11)
    ]
    assert (first.volume, first.count, first.vwap) == (Decimal(400), 3, Decimal(11))


def test_page_tokens_round_trip_and_bad_tokens_are_400() -> None:
    bars = history.aggregate(
        history.prehistory(1, "XYZ", SPEC, _market(0).first_quote), timedelta(minutes=1)
    )
    items = [("XYZ", b) for b in bars]
    page, token = paginate(items, None, 10)
    assert page == items[:10]
    assert token is not None
    assert read_page_token(token) == ("XYZ", items[10][1].at)
    assert paginate(items, token, 10)[0] == items[10:20]
    assert paginate(items, page_token("XYZ", bars[-1].at), 10) == ([items[-1]], None)
    _refused(lambda: read_page_token("%%%"), 400)
