"""Aggregate runs into per-policy figures and the SPEC §8 JSON document.

Over seeds: slippage is notional-weighted over every item of every seed (pooled), p95 is over
items, fill rate is pooled, wall time and requests are per-run means, requests per order is
total requests / total broker orders (a replace creates an order), peak per minute is the worst
simulated minute of any run. Ratios are against ``market`` run on the same seeds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from rebalance_executor.bench.metrics import (
    ZERO,
    RunRecord,
    fill_rate,
    paths_identical,
    percentile,
    weighted_slippage,
)
from rebalance_executor.bench.scenario import BenchScenario

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
    statuses: dict[str, int] = field(default_factory=dict)


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
        statuses=dict(Counter(r.status for r in records)),
        polls_per_min=sum(r.polls_per_min for r in records) / len(records),
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
        "requests_per_item": _num(stats.requests_per_item),
        "decision_slippage_bps": _num(stats.decision_slippage_bps),
        "executor_reported_slippage_bps": _num(stats.executor_slippage_bps),
        "poll_requests_per_min": _num(stats.polls_per_min, 1),
        "seed_slippage_bps": [_num(s) for s in stats.seed_slippage_bps],
        "statuses": stats.statuses,
    }


def scenario_json(report: ScenarioReport) -> dict[str, Any]:
    """One scenario's document: ``scenario``, ``seeds``, ``policies.<name>``, ``ratios``."""
    return {
        "scenario": report.scenario,
        "kind": report.kind,
        "items": report.item_count,
        "seeds": list(report.seeds),
        "policies": {name: policy_json(s) for name, s in report.policies.items()},
        "ratios_vs_market": ratios(report),
        "quote_paths_identical": report.quote_paths_identical,
        "real_s": _num(report.real_s, 1),
    }


def bench_json(reports: Sequence[ScenarioReport], elapsed_s: float, jobs: int) -> dict[str, Any]:
    """The file ``--json`` writes: one scenario → its document; several → under ``scenarios``."""
    if len(reports) == 1:
        return {**scenario_json(reports[0]), "elapsed_s": round(elapsed_s, 1), "jobs": jobs}
    return {
        "scenarios": [scenario_json(r) for r in reports],
        "elapsed_s": round(elapsed_s, 1),
        "jobs": jobs,
    }
