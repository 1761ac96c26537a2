"""A tiny end-to-end benchmark: one seed, one small scenario, all three policies through the
full handler path (real alpaca-py → simulator over loopback, moto), plus the premise the
benchmark rests on: the quote path does not depend on the order flow."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from alpaca_sim.testing import running_simulator
from rebalance_executor.bench.scenario import BenchScenario
from rebalance_executor.cli.main import main

TINY = {
    "name": "tiny",
    "description": "two liquid symbols, one sell and one buy",
    "budget_s": 240,
    "time_scale": 30,
    "cash": "20000",
    "positions": {"AAA": "100"},
    "symbols": {
        "AAA": {"price": "50.00", "spread_bps": "4", "volatility": "0.15", "depth": 400},
        "BBB": {"price": "120.00", "spread_bps": "3", "volatility": "0.15", "depth": 400},
    },
    "plan": {
        "items": [
            {"symbol": "AAA", "action": "SELL", "trade_amount": "-2000"},
            {"symbol": "BBB", "action": "BUY", "trade_amount": "3000"},
        ]
    },
}


def test_bench_runs_every_policy_through_the_handler_and_writes_json_and_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "tiny.json"
    scenario.write_text(json.dumps(TINY))
    out_json, out_png = tmp_path / "out" / "bench.json", tmp_path / "out" / "bench.png"
    code = main(
        [
            "bench",
            "--scenario",
            str(scenario),
            "--seeds",
            "1",
            "--seed-base",
            "3",
            "--jobs",
            "1",
            "--json",
            str(out_json),
            "--png",
            str(out_png),
        ]
    )
    assert code == 0
    document = json.loads(out_json.read_text())
    assert document["scenario"] == "tiny"
    assert document["seeds"] == [3]
    assert set(document["policies"]) == {"market", "anchor", "smart"}
    assert document["quote_paths_identical"] is True
    for name, figures in document["policies"].items():
        assert figures["statuses"] == {"SUCCEEDED": 1}, name
        assert figures["violations"] == 0, name  # SPEC §4.10, read from the simulator
        assert figures["fill_rate"] == 1.0, name
        # preflight alone is several requests; every run really talked to the broker
        assert figures["requests_total"] >= 5, name
        assert figures["requests_per_order"] > 0, name
        # where the slippage comes from: the two parts add up (to the JSON's rounding)
        parts = figures["timing_bps"] + figures["execution_bps"]
        assert parts == pytest.approx(figures["slippage_bps"], abs=0.011), name
        assert sum(figures["fill_mix"].values()) == pytest.approx(1.0, abs=1e-3), name
        assert set(figures["execution_bps_by_trigger"]) == {"taker", "flow", "path"}, name
    market = document["policies"]["market"]
    assert market["fill_mix"] == {"taker": 1.0, "flow": 0.0, "path": 0.0}
    assert market["execution_bps"] > 0  # a market order pays part of the spread
    assert document["policies"]["smart"]["paired_execution"]["market"]["n"] == 1
    assert document["ratios_vs_market"]["market"]["requests_ratio"] == 1.0
    # one seed: a paired mean but no interval, so no beat can be significant
    smart_vs_market = document["policies"]["smart"]["paired"]["market"]
    assert smart_vs_market["n"] == 1
    assert smart_vs_market["ci95_bps"] is None
    for name, figures in document["policies"].items():
        assert figures["half_spread_bps"] > 0, name  # from the NBBO at each item's first order
    smart_saved = document["policies"]["smart"]["half_spread_saved"]["market"]
    assert smart_saved["n"] == 1
    targets = document["targets"]["scenarios"]["tiny"]
    assert targets["checks"]["fill"]["ok"] is True
    # one seed is no held-out sample: the price targets are not judged, and so neither is the set
    assert targets["checks"]["not_worse_than_market"]["ok"] is None
    assert targets["outcome"] in {"not judged", "not met"}
    assert document["feed"] == "sip"
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "Execution quality" in printed
    assert "Where the slippage comes from" in printed
    assert "SPEC §8 targets for smart" in printed


def test_bench_runs_a_market_file_without_a_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench_keys = ("name", "description", "plan", "budget_s", "time_scale")
    market_only = {k: v for k, v in TINY.items() if k not in bench_keys}
    scenario = tmp_path / "market_only.json"
    scenario.write_text(json.dumps(market_only))
    out_json = tmp_path / "out.json"
    args = ["bench", "--scenario", str(scenario), "--seeds", "1", "--policies", "market"]
    assert main([*args, "--jobs", "1", "--json", str(out_json)]) == 0
    market = json.loads(out_json.read_text())["policies"]["market"]
    assert market["statuses"] == {"SUCCEEDED": 1}  # the default plan: sell AAA, buy BBB
    assert market["fill_rate"] == 1.0
    assert "market_only" in capsys.readouterr().out


def test_an_invalid_scenario_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({**TINY, "plan": [{"symbol": "ZZZ", "action": "BUY", "trade_amount": "1"}]})
    )
    assert main(["bench", "--scenario", str(bad), "--seeds", "1", "--jobs", "1"]) == 2
    assert "ZZZ" in capsys.readouterr().err


def _path(seed: int, trade: bool) -> list[tuple[int, Decimal, Decimal]]:
    market = BenchScenario.model_validate(
        {"name": "t", "market": TINY, "items": TINY["plan"]["items"]}  # type: ignore[index]
    ).market
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    with running_simulator(seed=seed, scenario=market, time_scale=1.0, start=start) as sim:
        sim.control.pause_clock()
        client = TradingClient("K", "S", paper=True, url_override=sim.base_url)
        for _ in range(30):
            if trade:
                client.submit_order(
                    MarketOrderRequest(
                        symbol="BBB", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
                    )
                )
            sim.control.advance_time(2.0)
        return [(q.step, q.bid, q.ask) for q in sim.control.quote_path("BBB")]


def test_same_seed_same_quote_path_whatever_the_order_flow() -> None:
    quiet, busy = _path(11, trade=False), _path(11, trade=True)
    assert len(quiet) > 10
    assert quiet == busy
    assert _path(12, trade=False) != quiet
