"""Sweep candidates are judged like smart in the benchmark and ranked by the SPEC §8 verdict."""

from __future__ import annotations

from decimal import Decimal

from rebalance_executor.bench.metrics import ItemMeasure, RunRecord
from rebalance_executor.bench.report import ScenarioReport, aggregate
from rebalance_executor.bench.sweep import Candidate, CandidateScore, sweep_json
from rebalance_executor.bench.targets import MIN_SEEDS, judge_scenario
from rebalance_executor.domain.config import SmartSchedule

D = Decimal


def _run(policy: str, seed: int, slip_bps: Decimal) -> RunRecord:
    item = ItemMeasure(
        "X",
        1,
        D(1000),
        D(10),
        D(10),
        D(100) + slip_bps / 100,
        D(100),
        D(100),
        1,
        arrival_half_spread_bps=D(1),
        arrival_spread_ticks=D(1),
    )
    return RunRecord("s", policy, seed, "SUCCEEDED", (item,), 60.0, 30, 30, 10, None, (), 1.0)


def _score(label: str, smart_bps: str) -> CandidateScore:
    seeds = range(MIN_SEEDS)
    runs = {
        "market": [_run("market", s, D(1)) for s in seeds],
        "anchor": [_run("anchor", s, D("0.9")) for s in seeds],
        "smart": [_run("smart", s, D(smart_bps) + D("0.1") * (s % 2)) for s in seeds],
    }
    report = ScenarioReport(
        "s", "quality", 1, tuple(seeds), {p: aggregate(r) for p, r in runs.items()}, True, 1.0
    )
    return CandidateScore(
        Candidate(label, SmartSchedule()), {"s": report}, {"s": judge_scenario(report)}
    )


def test_a_candidate_meeting_the_targets_ranks_before_a_cheaper_looking_miss() -> None:
    meets = _score("meets", "0.6")  # saves ≈ 0.35 of the half-spread, ahead of anchor
    behind = _score("behind", "0.95")  # saves 0.0 of h: below the ¼ a one-tick spread needs
    assert (meets.met, behind.met) == (1, 0)
    assert behind.missed >= 1
    ranked = sorted([behind, meets], key=CandidateScore.rank_key)
    assert [s.candidate.label for s in ranked] == ["meets", "behind"]


def test_the_sweep_json_carries_each_candidates_verdict_and_savings() -> None:
    score = _score("meets", "0.6")
    document = sweep_json({"s": {}}, [score], list(range(MIN_SEEDS)))
    (candidate,) = document["candidates"]
    assert candidate["scenarios_met"] == 1
    assert candidate["scenarios"]["s"]["outcome"] == "met"
    saved = candidate["scenarios"]["s"]["half_spread_saved"]["market"]["fraction"]
    assert saved == candidate["mean_saving_vs_market"]
