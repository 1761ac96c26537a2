"""Tuning sweep for the smart schedule (SPEC §4.5/§8): candidates side by side with the baselines.

``rebalance-executor bench --all --seed-base 1000 --seeds N --sweep GRID.json`` runs ``market``
and ``anchor`` once per (scenario, seed) and ``smart`` once per candidate; each candidate is a
set of SmartSchedule overrides. Candidates are ranked by (scenarios where smart beats both
baselines at ≥ 99.5% fill, then mean slippage margin against the better baseline). The JSON also
holds, per candidate and scenario, the PAIRED difference to each baseline: the mean over seeds of
(smart - baseline) slippage with its standard error (same seed = same quote path, so the market
noise common to both cancels). Run it on TUNING seeds only; report the chosen defaults on
held-out seeds (``bench --all``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rebalance_executor.bench.metrics import RunRecord
from rebalance_executor.bench.report import PolicyStats, aggregate, policy_json
from rebalance_executor.bench.runner import DEFAULT_FEED, RunSpec, run_many
from rebalance_executor.bench.scenario import BenchScenario
from rebalance_executor.bench.table import FILL_TARGET
from rebalance_executor.domain.config import SmartSchedule

BASELINES = ("market", "anchor")


@dataclass(frozen=True)
class Candidate:
    label: str
    schedule: SmartSchedule
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CandidateScore:
    candidate: Candidate
    wins: int  # scenarios where smart beats both baselines at >= 99.5% fill
    mean_margin_bps: Decimal  # mean over scenarios of (smart - better baseline); < 0 is better
    per_scenario: dict[str, PolicyStats]


@dataclass(frozen=True)
class Paired:
    """Mean and standard error over seeds of (candidate - baseline) slippage, in bps."""

    mean_bps: Decimal
    se_bps: Decimal | None  # None from a single seed
    n: int


def paired(mine: PolicyStats, baseline: PolicyStats) -> Paired | None:
    """The paired difference over the seeds both have a slippage figure for; None when none.

    Both must list their seeds in the same order (``run_sweep`` guarantees it); raises
    ValueError when their seed counts differ.
    """
    diffs = [
        a - b
        for a, b in zip(mine.seed_slippage_bps, baseline.seed_slippage_bps, strict=True)
        if a is not None and b is not None
    ]
    if not diffs:
        return None
    n = len(diffs)
    mean = sum(diffs, Decimal(0)) / n
    if n == 1:
        return Paired(mean, None, 1)
    var = sum(((d - mean) ** 2 for d in diffs), Decimal(0)) / (n - 1)
    return Paired(mean, (var / n).sqrt(), n)


def load_grid(path: Path) -> list[Candidate]:
    """A JSON list of ``{"label"?: str, "env"?: {NAME: value}, <SmartSchedule field>: value}``.

    ``env`` sets handler settings for the candidate's runs (e.g. ``POLL_INTERVAL_S``).

    Raises ValueError naming the file for unreadable JSON or an invalid field/value.
    """
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read sweep grid: {exc}") from exc
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise ValueError(f"{path}: a sweep grid is a JSON list of objects")
    out = []
    base = SmartSchedule().model_dump()
    for index, fields in enumerate(raw):
        label = str(fields.get("label", f"c{index}"))
        overrides = {k: v for k, v in fields.items() if k not in {"label", "env"}}
        env = fields.get("env", {})
        if not isinstance(env, dict):
            raise ValueError(f"{path}: candidate {label}: env must be an object")  # noqa: TRY004
        try:
            schedule = SmartSchedule.model_validate({**base, **overrides})
        except ValidationError as exc:
            raise ValueError(f"{path}: candidate {label}: {exc}") from exc
        out.append(Candidate(label, schedule, tuple((str(k), str(v)) for k, v in env.items())))
    return out


def run_sweep(
    scenarios: Sequence[BenchScenario],
    seeds: Sequence[int],
    candidates: Sequence[Candidate],
    jobs: int,
    progress: Callable[[RunRecord], None] | None = None,
    *,
    feed: str = DEFAULT_FEED,
) -> tuple[dict[str, dict[str, PolicyStats]], list[CandidateScore]]:
    """Baseline figures by scenario and policy, and the candidates ranked best first."""
    specs = [RunSpec(sc, p, s, feed=feed) for sc in scenarios for s in seeds for p in BASELINES]
    for cand in candidates:
        specs += [
            RunSpec(sc, "smart", s, cand.schedule, cand.env, feed)
            for sc in scenarios
            for s in seeds
        ]
    records = run_many(specs, jobs=jobs, progress=progress)
    baselines = {
        sc.name: {
            p: aggregate([r for r in records if r.scenario == sc.name and r.policy == p])
            for p in BASELINES
        }
        for sc in scenarios
    }
    scores = []
    offset = len(scenarios) * len(seeds) * len(BASELINES)
    block = len(scenarios) * len(seeds)
    for k, cand in enumerate(candidates):
        mine = records[offset + k * block : offset + (k + 1) * block]
        per = {sc.name: aggregate([r for r in mine if r.scenario == sc.name]) for sc in scenarios}
        scores.append(_score(cand, per, baselines))
    scores.sort(key=lambda s: (-s.wins, s.mean_margin_bps))
    return baselines, scores


def _score(
    cand: Candidate, per: dict[str, PolicyStats], baselines: dict[str, dict[str, PolicyStats]]
) -> CandidateScore:
    wins, margins = 0, []
    for name, smart in per.items():
        rivals = [b.slippage_bps for b in baselines[name].values() if b.slippage_bps is not None]
        if smart.slippage_bps is None or not rivals:
            continue
        margin = smart.slippage_bps - min(rivals)
        margins.append(margin)
        if margin < 0 and smart.fill_rate >= FILL_TARGET:
            wins += 1
    mean = sum(margins, Decimal(0)) / len(margins) if margins else Decimal("Infinity")
    return CandidateScore(cand, wins, mean, per)


def sweep_json(
    baselines: dict[str, dict[str, PolicyStats]],
    scores: Sequence[CandidateScore],
    seeds: Sequence[int],
) -> dict[str, Any]:
    return {
        "seeds": list(seeds),
        "baselines": {
            sc: {p: policy_json(s) for p, s in by.items()} for sc, by in baselines.items()
        },
        "candidates": [
            {
                "label": s.candidate.label,
                "schedule": s.candidate.schedule.model_dump(mode="json"),
                "env": dict(s.candidate.env),
                "wins": s.wins,
                "mean_margin_bps": round(float(s.mean_margin_bps), 2),
                "smart": {sc: policy_json(st) for sc, st in s.per_scenario.items()},
                "paired": {
                    sc: {p: _paired_json(st, baselines[sc][p]) for p in BASELINES}
                    for sc, st in s.per_scenario.items()
                },
            }
            for s in scores
        ],
    }


def _paired_json(mine: PolicyStats, baseline: PolicyStats) -> dict[str, Any] | None:
    pair = paired(mine, baseline)
    if pair is None:
        return None
    se = None if pair.se_bps is None else round(float(pair.se_bps), 3)
    return {"mean_bps": round(float(pair.mean_bps), 3), "se_bps": se, "n": pair.n}
