"""The computed SPEC §8 target verdict: beats on means vs significantly, edge cases, outputs."""

from __future__ import annotations

import io
from decimal import Decimal

from rich.console import Console

from rebalance_executor.bench.metrics import ItemMeasure, RunRecord
from rebalance_executor.bench.paired import PairedDiff
from rebalance_executor.bench.report import ScenarioReport, aggregate, bench_json
from rebalance_executor.bench.table import markdown_table, print_report
from rebalance_executor.bench.targets import Beat, judge, targets_json

D = Decimal


def _run(policy: str, seed: int, slip_bps: str, *, peak: int = 30, qty: str = "10") -> RunRecord:
    """One seed's run: a single 10-share buy at mid 100 whose slippage is ``slip_bps``."""
    avg = D(100) + D(slip_bps) / 100
    item = ItemMeasure("X", 1, D(1000), D(10), D(qty), avg, D(100), D(100), 1)
    return RunRecord("calm", policy, seed, "SUCCEEDED", (item,), 60.0, 40, peak, 10, None, (), 1.0)


def _report(
    name: str = "calm", kind: str = "quality", items: int = 1, **slips: list[str]
) -> ScenarioReport:
    policies = {
        policy: aggregate([_run(policy, seed, s) for seed, s in enumerate(values)])
        for policy, values in slips.items()
    }
    seeds = tuple(range(max(len(v) for v in slips.values())))
    return ScenarioReport(name, kind, items, seeds, policies, True, 1.0)


def test_significant_beats_need_the_paired_interval_below_zero() -> None:
    # smart - market per seed: -1, -2, -1, -2 (significant); smart - anchor: -1, 0, -1, -2 (not)
    report = _report(
        market=["2", "3", "2", "2"], anchor=["2", "1", "2", "2"], smart=["1", "1", "1", "0"]
    )
    verdict = judge([report])
    assert verdict is not None
    (scenario,) = verdict.scenarios
    by_rival = {b.rival: b for b in scenario.beats}
    assert by_rival["market"].beats
    assert by_rival["market"].significant
    assert by_rival["anchor"].beats
    assert by_rival["anchor"].significant is False
    assert scenario.met
    assert not scenario.met_significantly
    assert verdict.met
    assert not verdict.met_significantly
    document = targets_json(verdict)
    assert document is not None
    calm = document["scenarios"]["calm"]
    assert calm["beats"]["market"]["paired"] == {
        "mean_bps": -1.5,
        "se_bps": 0.289,
        "ci95_bps": [-2.419, -0.581],
        "n": 4,
    }
    assert calm["beats"]["anchor"]["significant"] is False
    assert document["met"] is True
    assert document["met_significantly"] is False


def test_an_interval_ending_exactly_at_zero_is_not_significant() -> None:
    # diffs -3.1824 + (3, -1, -1, -1): SS 12, SE exactly 1, t(3) = 3.1824, so hi = 0
    report = _report(
        market=["0", "0", "0", "0"], smart=["-0.1824", "-4.1824", "-4.1824", "-4.1824"]
    )
    verdict = judge([report])
    assert verdict is not None
    beat = verdict.scenarios[0].beats[0]
    assert beat.paired is not None
    assert beat.paired.ci95_bps == (D("-6.3648"), D(0))
    assert beat.beats is True
    assert beat.significant is False


def test_a_tie_is_not_a_beat() -> None:
    verdict = judge([_report(market=["2", "3"], anchor=["3", "2"], smart=["2", "3"])])
    assert verdict is not None
    assert [b.beats for b in verdict.scenarios[0].beats] == [False, False]
    assert not verdict.met
    joined = "\n".join(verdict.misses())
    assert "does not beat market +2.50 bps" in joined
    assert "does not beat anchor" in joined


def test_a_missing_rival_is_not_judged_and_not_counted_as_met_or_missed() -> None:
    verdict = judge([_report(market=["2", "3"], smart=["1", "2"])])
    assert verdict is not None
    anchor = verdict.scenarios[0].beats[1]
    assert anchor.rival == "anchor"
    assert anchor.beats is None
    assert anchor.significant is None
    assert verdict.met  # every judged check passed
    assert verdict.misses() == []
    assert any("anchor not run" in line for line in verdict.not_judged())
    document = targets_json(verdict)
    assert document is not None
    assert document["scenarios"]["calm"]["checks"]["beats_anchor"] is None
    # smart itself not run: no verdict and no ``targets`` key
    assert judge([_report(market=["1"], anchor=["2"])]) is None
    assert targets_json(None) is None


def test_smart_that_filled_nothing_does_not_beat_anyone() -> None:
    nothing_filled = Beat("market", True, None, D(2), None)
    assert nothing_filled.beats is False
    assert nothing_filled.significant is False
    rival_empty = Beat("market", True, D(1), None, None)
    assert rival_empty.beats is None
    assert Beat("market", True, D(1), D(2), PairedDiff(D(-1), None, None, 1)).significant is False


def test_fill_requests_and_the_200_item_peak_are_checked() -> None:
    low_fill = aggregate([_run("smart", 0, "1", qty="9", peak=250)])
    market = aggregate([_run("market", 0, "2")])
    scale = ScenarioReport(
        "scale_200", "scale", 200, (0,), {"market": market, "smart": low_fill}, True, 1.0
    )
    verdict = judge([scale])
    assert verdict is not None
    joined = "\n".join(verdict.misses())
    assert "fill rate 90.00% < 99.5%" in joined
    assert "peak 250 requests/min ≥ 200" in joined
    assert "requests per order" not in joined  # 40 requests / 10 orders = 4 is within target
    document = targets_json(verdict)
    assert document is not None
    assert document["scale_200_peak"] == {
        "scenario": "scale_200",
        "peak_requests_per_min": 250,
        "met": False,
    }
    only_calm = judge([_report(market=["2"], smart=["1"])])
    assert only_calm is not None
    assert any("200-item plan not run" in line for line in only_calm.not_judged())
    assert targets_json(only_calm)["scale_200_peak"] is None  # type: ignore[index]


def test_json_table_and_markdown_carry_pairs_and_verdict() -> None:
    report = _report(
        market=["2", "3", "2", "2"], anchor=["2", "1", "2", "2"], smart=["1", "1", "1", "0"]
    )
    document = bench_json([report], 1.0, 1, targets_json(judge([report])))
    assert document["policies"]["market"]["paired"] == {}
    assert set(document["policies"]["smart"]["paired"]) == {"market", "anchor"}
    assert document["policies"]["anchor"]["paired"]["market"]["mean_bps"] == -0.5
    assert document["targets"]["candidate"] == "smart"
    assert "targets" not in bench_json([report], 1.0, 1)
    markdown = markdown_table([report])
    assert "|  | smart - market | -1.50 | 0.29 | [-2.42, -0.58] | 4 |" in markdown
    assert "| calm | ✓ yes, significant | ✓ yes, not significant |" in markdown
    assert "smart meets the targets in 1/1 scenarios on means, 0/1 significantly" in markdown
    out = io.StringIO()
    print_report([report], Console(file=out, width=200), 1.0)
    text = out.getvalue()
    assert "[-2.42, -0.58]" in text
    assert "smart meets the targets in 1/1 scenarios on means, 0/1 significantly" in text
