"""Aggregation over seeds, the SPEC §8 JSON keys, ratios against market, and target misses."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from alpaca_sim.engine import FillRecord
from rebalance_executor.bench.decompose import decompose
from rebalance_executor.bench.metrics import ItemMeasure, RunRecord
from rebalance_executor.bench.report import (
    ScenarioReport,
    aggregate,
    bench_json,
    ratios,
    scenario_json,
)
from rebalance_executor.bench.table import markdown_table
from rebalance_executor.cli.bench import parse_policies, parse_smart

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SPEC_KEYS = {
    "slippage_bps",
    "slippage_bps_p95",
    "fill_rate",
    "wall_s",
    "requests_total",
    "requests_per_order",
    "peak_requests_per_min",
    "violations",
    "half_spread_bps",
    "paired",
}


def _run(
    policy: str,
    seed: int,
    avg: str,
    *,
    qty: str = "10",
    requests: int = 40,
    peak: int = 30,
    orders: int = 10,
) -> RunRecord:
    item = ItemMeasure(
        "X",
        1,
        Decimal(1000),
        Decimal(10),
        Decimal(qty),
        Decimal(avg),
        Decimal(100),
        Decimal(100),
        1,
    )
    return RunRecord(
        "calm", policy, seed, "SUCCEEDED", (item,), 60.0, requests, peak, orders, None, (), 1.0
    )


def _report(**policies: list[RunRecord]) -> ScenarioReport:
    return ScenarioReport(
        "calm",
        "quality",
        1,
        (0, 1),
        {name: aggregate(runs) for name, runs in policies.items()},
        True,
        2.0,
    )


def test_aggregate_pools_items_over_seeds_and_takes_the_worst_minute() -> None:
    stats = aggregate([_run("smart", 0, "100.02", peak=50), _run("smart", 1, "100.04", peak=70)])
    assert stats.slippage_bps is not None
    assert abs(stats.slippage_bps - Decimal(3)) < Decimal("0.01")
    assert stats.slippage_bps_p95 == pytest.approx(Decimal(4))
    assert stats.peak_requests_per_min == 70
    assert stats.requests_per_order == 4
    assert stats.fill_rate == 1
    with pytest.raises(ValueError, match="no runs"):
        aggregate([])


def test_violations_are_counted_over_every_run_of_a_policy() -> None:
    dirty = dataclasses.replace(
        _run("smart", 0, "100.02"), violations=("overfill [p]: item 0", "live_order [p]: o")
    )
    report = _report(market=[_run("market", 0, "100.02")], smart=[dirty, _run("smart", 1, "100")])
    document = scenario_json(report)
    assert document["policies"]["smart"]["violations"] == 2
    assert document["policies"]["market"]["violations"] == 0


def test_the_json_carries_exactly_the_spec_keys_per_policy_plus_ratios() -> None:
    report = _report(market=[_run("market", 0, "100.02")], smart=[_run("smart", 0, "100.01")])
    document = scenario_json(report)
    assert document["scenario"] == "calm"
    assert document["seeds"] == [0, 1]
    for figures in document["policies"].values():
        assert set(figures) >= SPEC_KEYS
        assert 0 <= figures["fill_rate"] <= 1
    assert document["ratios_vs_market"]["smart"]["slippage_ratio"] == pytest.approx(0.5)
    assert document["ratios_vs_market"]["smart"]["slippage_bps_delta"] == pytest.approx(-1.0)
    several = bench_json([report, report], 10.0, 2)
    assert len(several["scenarios"]) == 2


def test_ratios_are_empty_without_market_and_undefined_against_a_negative_cost() -> None:
    assert ratios(_report(smart=[_run("smart", 0, "100.01")])) == {}
    report = _report(market=[_run("market", 0, "99.99")], smart=[_run("smart", 0, "100.01")])
    assert ratios(report)["smart"]["slippage_ratio"] is None


def test_every_policy_is_paired_with_every_other_and_each_direction_is_the_negation() -> None:
    report = _report(
        market=[_run("market", 0, "100.02"), _run("market", 1, "100.03")],
        anchor=[_run("anchor", 0, "100.01"), _run("anchor", 1, "100.03")],
        smart=[_run("smart", 0, "100.01"), _run("smart", 1, "100.01")],
    )
    policies = scenario_json(report)["policies"]
    assert set(policies["market"]["paired"]) == {"anchor", "smart"}
    assert set(policies["anchor"]["paired"]) == {"market", "smart"}
    assert set(policies["smart"]["paired"]) == {"market", "anchor"}
    assert policies["smart"]["paired"]["market"]["mean_bps"] == pytest.approx(-1.5)
    assert policies["market"]["paired"]["smart"]["mean_bps"] == pytest.approx(1.5)
    # no arrival quote in these runs: no half-spread, so no saving to express in it
    assert policies["smart"]["half_spread_bps"] is None
    assert policies["smart"]["half_spread_saved"] == {"market": None, "anchor": None}


def test_policy_and_smart_override_parsing_rejects_bad_input() -> None:
    assert parse_policies("market, smart", 1) == ["market", "smart"]
    for text, seeds in (("market,twap", 1), ("", 1), ("market", 0)):
        with pytest.raises(ValueError, match="--"):
            parse_policies(text, seeds)
    schedule = parse_smart(["repeg_interval_s=5", "start_aggressiveness=0.5"])
    assert schedule is not None
    assert schedule.repeg_interval_s == 5
    assert schedule.start_aggressiveness == Decimal("0.5")
    assert parse_smart([]) is None
    for bad in (["repeg_interval_s"], ["start_aggressiveness=2"], ["no_such_field=1"]):
        with pytest.raises(ValueError, match="--smart"):
            parse_smart(bad)


def test_markdown_table_has_a_row_per_policy() -> None:
    report = _report(market=[_run("market", 0, "100.02")], smart=[_run("smart", 0, "100.01")])
    text = markdown_table([report])
    main = text.split("\n\n")[1]  # after its title; the other tables follow
    rows = [line for line in main.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 3  # header + two policies
    assert "| calm (1) | market | +2.00 |" in text
    assert "| smart | +1.00 |" in text


def _split_run(policy: str, seed: int, fill: str, mid_at_fill: str, trigger: str) -> RunRecord:
    """One buy of 10 at ``fill`` with arrival mid 100; the mid was ``mid_at_fill`` at the fill."""
    record = FillRecord("k", "o", "c", "X", "buy", Decimal(10), Decimal(fill), "maker", T0, trigger)
    split = decompose(1, Decimal(100), [(record, Decimal(mid_at_fill))])
    item = ItemMeasure(
        "X",
        1,
        Decimal(1000),
        Decimal(10),
        Decimal(10),
        Decimal(fill),
        Decimal(100),
        Decimal(100),
        1,
        split,
    )
    return RunRecord("calm", policy, seed, "SUCCEEDED", (item,), 60.0, 4, 4, 1, None, (), 1.0)


def test_the_json_splits_slippage_into_timing_and_execution_with_the_fill_mix() -> None:
    report = _report(
        market=[
            _split_run("market", 0, "100.05", "100.00", "taker"),  # exec +5, timing 0
            _split_run("market", 1, "100.25", "100.20", "taker"),  # exec +5, timing +20
        ],
        smart=[
            _split_run("smart", 0, "100.08", "100.10", "path"),  # exec -2, timing +10
            _split_run("smart", 1, "100.36", "100.40", "flow"),  # exec -4, timing +40
        ],
    )
    smart = scenario_json(report)["policies"]["smart"]
    # pooled by filled notional ($1000.80 at 8 bps, $1003.60 at 36 bps), like the slippage
    assert smart["slippage_bps"] == pytest.approx(22.02)
    assert smart["timing_bps"] == pytest.approx(25.02)
    assert smart["execution_bps"] == pytest.approx(-3.0)
    assert smart["fill_mix"]["taker"] == 0
    assert smart["fill_mix"]["path"] + smart["fill_mix"]["flow"] == pytest.approx(1.0)
    assert smart["execution_bps_by_trigger"] == {
        "taker": None,
        "path": pytest.approx(-2.0),
        "flow": pytest.approx(-4.0),
    }
    vs_market = smart["paired_execution"]["market"]
    assert vs_market["mean_bps"] == pytest.approx(-8.0)  # (-7, -9)
    assert vs_market["n"] == 2
    assert vs_market["ci95_bps"][0] < -8 < vs_market["ci95_bps"][1]
    assert smart["paired_timing"]["market"]["mean_bps"] == pytest.approx(15.0)  # (10, 20)
    market = scenario_json(report)["policies"]["market"]
    assert market["fill_mix"] == {"taker": 1.0, "flow": 0.0, "path": 0.0}
    assert market["paired_execution"]["smart"]["mean_bps"] == pytest.approx(8.0)
    text = markdown_table([report])
    assert "Where the slippage comes from" in text
    market_row = "| calm | market | +15.01 | +10.01 | +5.00 | 100.0 | 0.0 | 0.0 | +5.00 | — | — "
    assert market_row in text
    assert "| smart | +22.02 | +25.02 | -3.00 | 0.0 |" in text
