"""The computed SPEC §8 verdict: each rule met / not met / not judged, and the outputs."""

from __future__ import annotations

import dataclasses
import io
from decimal import Decimal

import pytest
from rich.console import Console

from rebalance_executor.bench.metrics import ItemMeasure, RunRecord
from rebalance_executor.bench.report import ScenarioReport, aggregate, bench_json
from rebalance_executor.bench.table import markdown_table, print_report
from rebalance_executor.bench.targets import (
    MIN_SEEDS,
    Outcome,
    judge,
    judge_scenario,
    outcome_of,
    required_fraction,
    targets_json,
)

D = Decimal
SEEDS = range(MIN_SEEDS)


def _run(
    policy: str,
    seed: int,
    slip_bps: Decimal,
    *,
    ticks: str = "1",
    qty: str = "10",
    requests: int = 40,
    orders: int = 10,
) -> RunRecord:
    """One seed: a 10-share buy at arrival mid 100 costing ``slip_bps``, arriving at a 1 bps
    half-spread (a one-cent spread at $100) that was ``ticks`` ticks wide."""
    avg = D(100) + slip_bps / 100
    item = ItemMeasure(
        "X",
        1,
        D(1000),
        D(10),
        D(qty),
        avg,
        D(100),
        D(100),
        1,
        arrival_half_spread_bps=D(1),
        arrival_spread_ticks=D(ticks),
    )
    return RunRecord(
        "liquid", policy, seed, "SUCCEEDED", (item,), 60.0, requests, 30, orders, None, (), 1.0
    )


def _noise(seed: int) -> Decimal:
    """Seed-to-seed variation of the paired difference: ±0.1 bps, mean 0 over an even count."""
    return D("0.1") if seed % 2 else D("-0.1")


def _report(
    *,
    smart: str,
    market: str | None = "1",
    anchor: str | None = "0.9",
    seeds: range = SEEDS,
    ticks: str = "1",
) -> ScenarioReport:
    """market/anchor/smart with these mean slippages (bps); smart varies ±0.1 around its own;
    smart's items arrive at a spread ``ticks`` wide."""
    runs = {"smart": [_run("smart", s, D(smart) + _noise(s), ticks=ticks) for s in seeds]}
    for name, slip in (("market", market), ("anchor", anchor)):
        if slip is not None:
            runs[name] = [_run(name, s, D(slip)) for s in seeds]
    policies = {name: aggregate(records) for name, records in runs.items()}
    return ScenarioReport("liquid", "quality", 1, tuple(seeds), policies, True, 1.0)


def test_a_one_tick_scenario_saving_a_quarter_of_the_half_spread_meets_every_target() -> None:
    verdict = judge_scenario(_report(smart="0.7"))  # saves 0.3 h vs market, 0.2 vs anchor
    assert verdict.outcome is Outcome.MET
    assert verdict.required_fraction == D("0.25")
    assert verdict.saved_vs_market is not None
    assert verdict.saved_vs_market.fraction == pytest.approx(D("0.3"))
    assert verdict.saved_vs_anchor is not None
    assert verdict.saved_vs_anchor.fraction == pytest.approx(D("0.2"))
    assert all(c.ok for c in verdict.checks)
    assert verdict.ahead_significant is True


def test_the_same_saving_misses_where_the_spread_is_wider_than_one_tick() -> None:
    verdict = judge_scenario(_report(smart="0.7", ticks="3"))
    assert verdict.required_fraction == D("0.5")
    assert verdict.check("half_spread_saving").ok is False
    assert verdict.outcome is Outcome.NOT_MET
    assert verdict.misses() == [
        "liquid: half_spread_saving: saved +0.30 of the half-spread vs market < 0.5"
    ]


def test_the_spread_class_boundary_is_one_and_a_half_ticks() -> None:
    assert required_fraction(D("1.49")) == D("0.25")
    assert required_fraction(D("1.5")) == D("0.5")
    assert required_fraction(None) is None


def test_significantly_worse_than_market_is_missed_and_noise_around_it_is_not() -> None:
    worse = judge_scenario(_report(smart="1.2", anchor="1.3"))
    assert worse.check("not_worse_than_market").ok is False
    assert worse.outcome is Outcome.NOT_MET
    even = judge_scenario(_report(smart="1", anchor="1.3"))  # interval straddles zero
    check = even.check("not_worse_than_market")
    assert check.ok is True
    assert check.figure == "+0.00 [-0.04, +0.04]"


def test_ahead_of_anchor_means_a_lower_mean_a_tie_is_not_ahead() -> None:
    tie = judge_scenario(_report(smart="0.6", anchor="0.6"))
    assert tie.check("ahead_of_anchor").ok is False
    assert tie.ahead_significant is False
    behind = judge_scenario(_report(smart="0.7", anchor="0.5"))
    assert behind.check("ahead_of_anchor").ok is False
    assert behind.check("half_spread_saving").ok is True  # vs market only


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"qty": "9.9"}, "fill"),  # 99 % filled
        ({"requests": 41}, "requests_per_order"),  # 4.1 per order
    ],
)
def test_each_gate_is_a_miss(change: dict[str, object], check: str) -> None:
    report = _report(smart="0.7")
    runs = [_run("smart", s, D("0.7"), **change) for s in SEEDS]  # type: ignore[arg-type]
    report.policies["smart"] = aggregate(runs)
    verdict = judge_scenario(report)
    assert verdict.check(check).ok is False
    assert verdict.outcome is Outcome.NOT_MET


def test_a_violation_is_a_miss() -> None:
    report = _report(smart="0.7")
    dirty = dataclasses.replace(_run("smart", 0, D("0.7")), violations=("overfill: item 0",))
    report.policies["smart"] = aggregate([dirty, *(_run("smart", s, D("0.7")) for s in SEEDS[1:])])
    verdict = judge_scenario(report)
    assert verdict.check("violations").ok is False
    assert verdict.outcome is Outcome.NOT_MET


def test_fewer_than_thirty_seeds_is_not_judged_never_met() -> None:
    verdict = judge_scenario(_report(smart="0.7", seeds=range(MIN_SEEDS - 1)))
    assert verdict.outcome is Outcome.NOT_JUDGED
    for name in ("not_worse_than_market", "ahead_of_anchor", "half_spread_saving"):
        assert verdict.check(name).ok is None
        assert "29 paired seeds < 30" in verdict.check(name).detail
    assert verdict.check("fill").ok is True  # the gates are still judged
    assert len(verdict.not_judged()) == 3


def test_a_rival_not_run_or_smart_not_run_is_not_judged() -> None:
    no_anchor = judge_scenario(_report(smart="0.7", anchor=None))
    assert no_anchor.check("ahead_of_anchor").ok is None
    assert no_anchor.check("ahead_of_anchor").detail == "anchor not run"
    assert no_anchor.outcome is Outcome.NOT_JUDGED
    no_market = judge_scenario(_report(smart="0.7", market=None))
    assert no_market.check("half_spread_saving").ok is None
    assert no_market.check("not_worse_than_market").ok is None
    report = _report(smart="0.7")
    del report.policies["smart"]
    assert judge([report]) is None
    assert targets_json(None) is None


def test_smart_placing_no_orders_leaves_requests_per_order_not_judged() -> None:
    report = _report(smart="0.7")
    report.policies["smart"] = aggregate([_run("smart", s, D("0.7"), orders=0) for s in SEEDS])
    assert judge_scenario(report).check("requests_per_order").ok is None


def test_different_quote_paths_invalidate_the_comparison() -> None:
    report = dataclasses.replace(_report(smart="0.7"), quote_paths_identical=False)
    assert judge_scenario(report).check("quote_paths_identical").ok is False


def test_the_set_outcome_is_not_met_on_any_miss_and_met_only_when_all_are_met() -> None:
    assert outcome_of([True, True]) is Outcome.MET
    assert outcome_of([True, None]) is Outcome.NOT_JUDGED
    assert outcome_of([None, False, True]) is Outcome.NOT_MET
    both = judge([_report(smart="0.7"), _report(smart="0.7", seeds=range(3))])
    assert both is not None
    assert both.outcome is Outcome.NOT_JUDGED


def test_json_table_and_markdown_carry_the_verdict() -> None:
    report = _report(smart="0.7", ticks="3")
    document = bench_json([report], 1.0, 1, targets_json(judge([report])))
    targets = document["targets"]
    assert targets["outcome"] == "not met"
    liquid = targets["scenarios"]["liquid"]
    assert liquid["spread_class"] == "wider-than-one-tick"
    assert liquid["required_fraction"] == 0.5
    assert liquid["saved_vs_market"]["fraction"] == pytest.approx(0.3)
    assert liquid["checks"]["half_spread_saving"]["ok"] is False
    assert liquid["checks"]["fill"] == {
        "ok": True,
        "figure": "100.00 %",
        "detail": "fill 100.00 % ≥ 99.5 %",
    }
    markdown = markdown_table([report])
    assert "| liquid | 3.00 ticks (wider) | ✓ 100.00 % | ✓ 0 | ✓ 4.00 |" in markdown
    assert "✗ +0.30 [+0.26, +0.34] (≥ 0.50)" in markdown
    assert "smart against the SPEC §8 targets: not met" in markdown
    out = io.StringIO()
    print_report([report], Console(file=out, width=250), 1.0)
    text = out.getvalue()
    assert "missed: liquid: half_spread_saving" in text
    assert "smart against the SPEC §8 targets: not met (0/1 met, 1/1 not met, 0/1 not" in text
