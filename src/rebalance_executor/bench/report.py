"""Aggregate runs into per-policy figures and the SPEC §8 JSON document.

Over seeds: slippage is notional-weighted over every item of every seed (pooled), p95 is over
items, fill rate is pooled, wall time and requests are per-run means, requests per order is
total requests / total broker orders (a replace creates an order), peak per minute is the worst
simulated minute of any run. Ratios are against ``market`` run on the same seeds. Timing,
execution and the fill mix (bench.decompose) are pooled the same way as slippage, so timing +
execution = slippage for the pooled figures too; their paired differences use per-run figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from rebalance_executor.bench.decompose import (
    execution_by_trigger,
    fill_mix,
    mix_json,
    weighted_execution,
    weighted_timing,
)
from rebalance_executor.bench.metrics import (
    ZERO,
    RunRecord,
    fill_rate,
    paths_identical,
    percentile,
    weighted_slippage,
)
from rebalance_executor.bench.paired import PairedDiff, comparisons, paired_diff
from rebalance_executor.bench.scenario import BenchScenario
from rebalance_executor.bench.spread import (
    HalfSpreadSaving,
    saving,
    weighted_half_spread,
    weighted_spread_ticks,
)

BASELINE: Final = "market"


@dataclass(frozen=True)
class PolicyStats:
    """One policy's figures over all seeds of a scenario (Decimal inside, float in JSON)."""

    slippage_bps: Decimal | None
    slippage_bps_p95: Decimal | None
    fill_rate: Decimal
    wall_s: float
    requests_total: float
    requests_per_order: Decimal | None
    requests_per_item: Decimal | None
    peak_requests_per_min: int
    decision_slippage_bps: Decimal | None
    executor_slippage_bps: Decimal | None
    seed_slippage_bps: tuple[Decimal | None, ...]
    polls_per_min: float = 0.0
    # SPEC §4.10 violations over every run (target: zero)
    violations: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seeds: tuple[int, ...] = ()  # aligned with seed_slippage_bps
    # where the slippage comes from (bench.decompose); None / empty when nothing filled
    timing_bps: Decimal | None = None
    execution_bps: Decimal | None = None
    fill_mix: dict[str, Decimal] | None = None
    execution_bps_by_trigger: dict[str, Decimal | None] = field(default_factory=dict)
    seed_timing_bps: tuple[Decimal | None, ...] = ()  # aligned with seeds
    seed_execution_bps: tuple[Decimal | None, ...] = ()  # aligned with seeds
    seed_fill_rate: tuple[Decimal, ...] = ()  # aligned with seeds
    no_valid_quote: int = 0  # items left untraded for want of a reference price, all runs
    # arrival NBBO, filled-notional-weighted like the slippage (bench.spread)
    half_spread_bps: Decimal | None = None
    spread_ticks: Decimal | None = None
    # mean reaction latency over the runs that had one (bench.reaction), simulated seconds
    reaction_s: float | None = None

    @property
    def by_seed(self) -> dict[int, Decimal | None]:
        """Per-seed notional-weighted slippage, keyed by seed (for paired comparisons)."""
        return dict(zip(self.seeds, self.seed_slippage_bps, strict=True))

    @property
    def timing_by_seed(self) -> dict[int, Decimal | None]:
        """Per-seed notional-weighted timing bps, keyed by seed."""
        return dict(zip(self.seeds, self.seed_timing_bps, strict=True))

    @property
    def execution_by_seed(self) -> dict[int, Decimal | None]:
        """Per-seed notional-weighted execution bps, keyed by seed."""
        return dict(zip(self.seeds, self.seed_execution_bps, strict=True))


@dataclass(frozen=True)
class ScenarioReport:
    scenario: str
    kind: str
    item_count: int
    seeds: tuple[int, ...]
    policies: dict[str, PolicyStats]
    quote_paths_identical: bool
    real_s: float


def aggregate(records: Sequence[RunRecord]) -> PolicyStats:
    """Figures for one policy's runs (one per seed). Raises ValueError for no runs."""
    if not records:
        raise ValueError("no runs to aggregate")
    items = [i for r in records for i in r.items]
    slips = [s for i in items if (s := i.slippage_bps) is not None]
    orders = sum(r.orders_total for r in records)
    traded = sum(1 for i in items if i.orders > 0)
    requests = sum(r.requests_total for r in records)
    exec_slips = [r.executor_slippage_bps for r in records if r.executor_slippage_bps is not None]
    return PolicyStats(
        slippage_bps=weighted_slippage(items),
        slippage_bps_p95=percentile(slips, 0.95),
        fill_rate=fill_rate(items),
        wall_s=sum(r.wall_s for r in records) / len(records),
        requests_total=requests / len(records),
        requests_per_order=Decimal(requests) / orders if orders else None,
        requests_per_item=Decimal(requests) / traded if traded else None,
        peak_requests_per_min=max(r.peak_requests_per_min for r in records),
        decision_slippage_bps=weighted_slippage(items, decision=True),
        executor_slippage_bps=(sum(exec_slips, ZERO) / len(exec_slips)) if exec_slips else None,
        seed_slippage_bps=tuple(r.slippage_bps for r in records),
        seeds=tuple(r.seed for r in records),
        statuses=dict(Counter(r.status for r in records)),
        polls_per_min=sum(r.polls_per_min for r in records) / len(records),
        violations=sum(len(r.violations) for r in records),
        timing_bps=weighted_timing(items),
        execution_bps=weighted_execution(items),
        fill_mix=fill_mix(items),
        execution_bps_by_trigger=execution_by_trigger(items),
        seed_timing_bps=tuple(r.timing_bps for r in records),
        seed_execution_bps=tuple(r.execution_bps for r in records),
        seed_fill_rate=tuple(r.fill_rate for r in records),
        no_valid_quote=sum(r.no_valid_quote for r in records),
        half_spread_bps=weighted_half_spread(items),
        spread_ticks=weighted_spread_ticks(items),
        reaction_s=_mean([r.reaction_s for r in records if r.reaction_s is not None]),
    )


def scenario_report(
    scenario: BenchScenario, seeds: Sequence[int], records: Sequence[RunRecord]
) -> ScenarioReport:
    """Group a scenario's runs by policy (policy order as first seen)."""
    policies: dict[str, list[RunRecord]] = {}
    for record in records:
        policies.setdefault(record.policy, []).append(record)
    return ScenarioReport(
        scenario=scenario.name,
        kind=scenario.kind.value,
        item_count=scenario.item_count,
        seeds=tuple(seeds),
        policies={name: aggregate(runs) for name, runs in policies.items()},
        quote_paths_identical=paths_identical(records),
        real_s=sum(r.real_s for r in records),
    )


def paired(
    report: ScenarioReport, figure: str = "slippage"
) -> dict[str, dict[str, PairedDiff | None]]:
    """``[policy][other]`` = paired per-seed difference (policy - other); see bench.paired.

    ``figure`` is "slippage" (the contract metric), "execution" or "timing". Every policy gets
    an entry per other policy run; None where no seed measured both. Raises KeyError for another
    ``figure``.
    """
    pick = _BY_SEED[figure]
    out: dict[str, dict[str, PairedDiff | None]] = {name: {} for name in report.policies}
    for policy, other in comparisons(list(report.policies)):
        mine, theirs = pick(report.policies[policy]), pick(report.policies[other])
        out[policy][other] = paired_diff(mine, theirs)
    return out


_BY_SEED: Final[dict[str, Callable[[PolicyStats], dict[int, Decimal | None]]]] = {
    "slippage": lambda s: s.by_seed,
    "execution": lambda s: s.execution_by_seed,
    "timing": lambda s: s.timing_by_seed,
}


def paired_json(diff: PairedDiff | None) -> dict[str, Any] | None:
    """``{mean_bps, se_bps, ci95_bps: [lo, hi], n}``; se and interval are null below 2 seeds."""
    if diff is None:
        return None
    return {
        "mean_bps": _num(diff.mean_bps, 3),
        "se_bps": _num(diff.se_bps, 3),
        "ci95_bps": None if diff.ci95_bps is None else [_num(v, 3) for v in diff.ci95_bps],
        "n": diff.n,
    }


def savings(report: ScenarioReport) -> dict[str, dict[str, HalfSpreadSaving | None]]:
    """``[policy][other]`` = the saving against ``other`` in the policy's half-spread."""
    return {
        policy: {o: saving(d, report.policies[policy].half_spread_bps) for o, d in by.items()}
        for policy, by in paired(report).items()
    }


def saving_json(value: HalfSpreadSaving | None) -> dict[str, Any] | None:
    """``{saving_bps, fraction, ci95: [lo, hi] | null, n}``."""
    if value is None:
        return None
    ci = value.ci95
    return {
        "saving_bps": _num(value.saving_bps, 3),
        "fraction": _num(value.fraction, 3),
        "ci95": None if ci is None else [_num(v, 3) for v in ci],
        "n": value.n,
    }


def ratios(report: ScenarioReport) -> dict[str, dict[str, float | None]]:
    """Each policy against ``market``: slippage difference (bps) and ratios; {} without market."""
    base = report.policies.get(BASELINE)
    if base is None:
        return {}
    out: dict[str, dict[str, float | None]] = {}
    for name, stats in report.policies.items():
        out[name] = {
            "slippage_bps_delta": _num(
                None
                if stats.slippage_bps is None or base.slippage_bps is None
                else stats.slippage_bps - base.slippage_bps
            ),
            "slippage_ratio": _ratio(stats.slippage_bps, base.slippage_bps),
            "fill_rate_ratio": _ratio(stats.fill_rate, base.fill_rate),
            "wall_s_ratio": _ratio(Decimal(str(stats.wall_s)), Decimal(str(base.wall_s))),
            "requests_ratio": _ratio(
                Decimal(str(stats.requests_total)), Decimal(str(base.requests_total))
            ),
        }
    return out


def _ratio(a: Decimal | None, b: Decimal | None) -> float | None:
    """a / b, only when b is a positive quantity (a ratio to a negative cost means nothing)."""
    if a is None or b is None or b <= 0:
        return None
    return round(float(a / b), 3)


def _num(value: Decimal | float | None, places: int = 2) -> float | None:
    return None if value is None else round(float(value), places)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def policy_json(stats: PolicyStats) -> dict[str, Any]:
    """The SPEC §8 keys first, then the extras (documented in the README's Benchmark section)."""
    return {
        "slippage_bps": _num(stats.slippage_bps),
        "slippage_bps_p95": _num(stats.slippage_bps_p95),
        "fill_rate": _num(stats.fill_rate, 5),
        "wall_s": _num(stats.wall_s, 1),
        "requests_total": _num(stats.requests_total, 1),
        "requests_per_order": _num(stats.requests_per_order),
        "peak_requests_per_min": stats.peak_requests_per_min,
        "violations": stats.violations,
        "half_spread_bps": _num(stats.half_spread_bps, 3),
        "arrival_spread_ticks": _num(stats.spread_ticks, 3),
        "reaction_latency_s": _num(stats.reaction_s),
        "requests_per_item": _num(stats.requests_per_item),
        "decision_slippage_bps": _num(stats.decision_slippage_bps),
        "executor_reported_slippage_bps": _num(stats.executor_slippage_bps),
        "poll_requests_per_min": _num(stats.polls_per_min, 1),
        "seed_slippage_bps": [_num(s) for s in stats.seed_slippage_bps],
        "statuses": stats.statuses,
        "timing_bps": _num(stats.timing_bps),
        "execution_bps": _num(stats.execution_bps),
        "fill_mix": mix_json(stats.fill_mix, 4),
        "execution_bps_by_trigger": mix_json(stats.execution_bps_by_trigger, 2),
        "seed_fill_rate": [_num(f, 5) for f in stats.seed_fill_rate],
        "no_valid_quote_items": stats.no_valid_quote,
    }


def scenario_json(report: ScenarioReport) -> dict[str, Any]:
    """One scenario's document: ``scenario``, ``seeds``, ``policies.<name>`` (with ``paired``
    per-seed slippage differences against every other policy run, the same for execution and
    timing: ``paired_execution``, ``paired_timing``, and ``half_spread_saved``: the saving
    against each other policy as a fraction of the half-spread), ``ratios_vs_market``."""
    pairs, execution, timing = (paired(report, f) for f in ("slippage", "execution", "timing"))
    saved = savings(report)
    return {
        "scenario": report.scenario,
        "kind": report.kind,
        "items": report.item_count,
        "seeds": list(report.seeds),
        "policies": {
            name: {
                **policy_json(s),
                "paired": {o: paired_json(d) for o, d in pairs[name].items()},
                "half_spread_saved": {o: saving_json(v) for o, v in saved[name].items()},
                "paired_execution": {o: paired_json(d) for o, d in execution[name].items()},
                "paired_timing": {o: paired_json(d) for o, d in timing[name].items()},
            }
            for name, s in report.policies.items()
        },
        "ratios_vs_market": ratios(report),
        "quote_paths_identical": report.quote_paths_identical,
        "real_s": _num(report.real_s, 1),
    }


def bench_json(
    reports: Sequence[ScenarioReport],
    elapsed_s: float,
    jobs: int,
    targets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The file ``--json`` writes: one scenario → its document; several → under ``scenarios``.

    ``targets`` (bench.targets.targets_json) is stored at the top level when given.
    """
    tail: dict[str, Any] = {"elapsed_s": round(elapsed_s, 1), "jobs": jobs}
    if targets is not None:
        tail["targets"] = targets
    if len(reports) == 1:
        return {**scenario_json(reports[0]), **tail}
    return {"scenarios": [scenario_json(r) for r in reports], **tail}
