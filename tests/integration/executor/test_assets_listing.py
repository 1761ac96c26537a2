"""Preflight asset reads through the real alpaca-py client against the simulator: one listing of
active US equities above 3 symbols, one request per symbol up to 3, the same answers either way
(an unknown symbol is simply absent)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alpaca.trading.enums import AssetClass, AssetStatus
from alpaca.trading.requests import GetAssetsRequest

from alpaca_sim.testing import RunningSimulator
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ItemOutcome, Reason
from tests.fixtures.sim import SimFactory
from tests.integration.executor.harness import Harness, item

LISTING = "GET /v2/assets"


def per_symbol_reads(sim: RunningSimulator) -> int:
    counts = sim.control.request_counts()
    return sum(c for endpoint, c in counts.items() if endpoint.startswith("GET /v2/assets/"))


def listings(sim: RunningSimulator) -> int:
    return sim.control.request_counts().get(LISTING, 0)


def test_many_symbols_are_read_in_one_listing_and_unknown_ones_are_absent(
    sim: RunningSimulator,
) -> None:
    broker = Harness.start(sim).broker()
    symbols = {"SPY", "QQQ", "TLT", "NOFR", "NOPE"}
    assets = asyncio.run(broker.get_assets(symbols))
    assert set(assets) == {"SPY", "QQQ", "TLT", "NOFR"}
    assert assets["NOFR"].fractionable is False
    assert assets["SPY"].fractionable is True
    assert all(a.tradable for a in assets.values())
    assert (listings(sim), per_symbol_reads(sim)) == (1, 0)
    assert broker.request_count() == 1


def test_few_symbols_are_read_one_by_one_with_the_same_answers(sim: RunningSimulator) -> None:
    broker = Harness.start(sim).broker()
    few = asyncio.run(broker.get_assets({"SPY", "NOFR", "NOPE"}))
    assert (listings(sim), per_symbol_reads(sim)) == (0, 3)
    many = asyncio.run(broker.get_assets({"SPY", "NOFR", "NOPE", "QQQ", "TLT"}))
    assert set(few) == {"SPY", "NOFR"}
    assert {s: many[s] for s in few} == few


def test_simulator_listing_honours_status_and_class_filters(alpaca_trading: Any) -> None:
    def symbols(**filters: Any) -> set[str]:
        return {a.symbol for a in alpaca_trading.get_all_assets(GetAssetsRequest(**filters))}

    everything = {a.symbol for a in alpaca_trading.get_all_assets()}
    assert "SPY" in everything
    assert symbols(status=AssetStatus.ACTIVE, asset_class=AssetClass.US_EQUITY) == everything
    assert symbols(status=AssetStatus.INACTIVE) == set()
    assert symbols(asset_class=AssetClass.CRYPTO) == set()
    assert symbols(exchange="NASDAQ") == {"QQQ", "AAPL", "MSFT", "NVDA", "TLT", "BND", "PENY"}


@pytest.mark.parametrize("known", [["SPY"], ["SPY", "QQQ", "TLT", "GLD"]])
def test_unknown_symbol_in_a_plan_is_not_traded_whichever_path_read_it(
    sim_factory: SimFactory, known: list[str]
) -> None:
    """One known symbol (per-symbol reads) or four (one listing): the unknown item's outcome,
    reason and detail are the same, and the known ones trade."""
    sim = sim_factory(seed=5, time_scale=20.0)
    h = Harness.start(sim)
    h.account("100000")
    plan = h.plan(*(item(s, Action.BUY, "1000") for s in known), item("NOPE", Action.BUY, "1000"))
    result = h.run(plan)
    by_symbol = {i.symbol: i for i in result.items}
    unknown = by_symbol["NOPE"]
    assert (unknown.outcome, unknown.reason) == (ItemOutcome.NOT_TRADED, Reason.NOT_TRADABLE)
    assert unknown.reason_detail == "asset unknown or not tradable"
    assert all(by_symbol[s].outcome is ItemOutcome.FILLED for s in known)
    expected = (1, 0) if len(known) > 2 else (0, len(known) + 1)
    assert (listings(sim), per_symbol_reads(sim)) == expected
