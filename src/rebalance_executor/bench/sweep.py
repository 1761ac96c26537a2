"""Tuning sweep for the smart schedule (SPEC §4.5/§8): candidates side by side with the baselines.

``rebalance-executor bench --all --seed-base 1000 --seeds N --sweep GRID.json`` runs ``market``
and ``anchor`` once per (scenario, seed) and ``smart`` once per candidate; each candidate is a
set of SmartSchedule overrides. Each candidate is judged per scenario exactly as the benchmark
judges smart (bench.targets: the SPEC §8 verdict) and ranked by (scenarios met, fewest missed,
then mean saving against market in half-spreads, higher first). The JSON holds, per candidate
and scenario, the verdict, the paired differences and the savings. Run it on TUNING seeds only
(≥ 1000); report the chosen defaults on held-out seeds (``make bench``: 0-29).
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
from rebalance_executor.bench.report import (
    PolicyStats,
    ScenarioReport,
    paired,
    paired_json,
    policy_json,
    saving_json,
    savings,
    scenario_report,
)
from rebalance_executor.bench.runner import DEFAULT_FEED, RunSpec, run_many
from rebalance_executor.bench.scenario import BenchScenario
from rebalance_executor.bench.targets import CANDIDATE, Outcome, ScenarioVerdict, judge_scenario
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
    reports: dict[str, ScenarioReport]  # by scenario: the baselines and this candidate as smart
    verdicts: dict[str, ScenarioVerdict]

    @property
    def met(self) -> int:
        return sum(v.outcome is Outcome.MET for v in self.verdicts.values())

    @property
    def missed(self) -> int:
        return sum(len(v.misses()) for v in self.verdicts.values())

    @property
    def mean_saving(self) -> Decimal | None:
        """Mean over scenarios of the saving against market in half-spreads (None if none)."""
        values = [v.saved_vs_market.fraction for v in self.verdicts.values() if v.saved_vs_market]
        return sum(values, Decimal(0)) / len(values) if values else None

    @property
    def per_scenario(self) -> dict[str, PolicyStats]:
        return {name: r.policies[CANDIDATE] for name, r in self.reports.items()}

    def rank_key(self) -> tuple[int, int, Decimal]:
        saving = self.mean_saving
        return (-self.met, self.missed, -saving if saving is not None else Decimal("Infinity"))


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
    base_specs = [
        RunSpec(sc, p, s, feed=feed) for sc in scenarios for s in sc.seeds(seeds) for p in BASELINES
    ]
    cand_specs = [
        [
            RunSpec(sc, CANDIDATE, s, c.schedule, c.env, feed)
            for sc in scenarios
            for s in sc.seeds(seeds)
        ]
        for c in candidates
    ]
    records = run_many([*base_specs, *(s for block in cand_specs for s in block)], jobs, progress)
    base_records, rest = records[: len(base_specs)], records[len(base_specs) :]
    scores = []
    for cand, block in zip(candidates, cand_specs, strict=True):
        mine, rest = rest[: len(block)], rest[len(block) :]
        reports = {
            sc.name: scenario_report(
                sc,
                sc.seeds(seeds),
                [r for r in (*base_records, *mine) if r.scenario == sc.name],
            )
            for sc in scenarios
        }
        verdicts = {name: judge_scenario(r) for name, r in reports.items()}
        scores.append(CandidateScore(cand, reports, verdicts))
    scores.sort(key=CandidateScore.rank_key)
    baselines = (
        {
            sc.name: {p: scores[0].reports[sc.name].policies[p] for p in BASELINES}
            for sc in scenarios
        }
        if scores
        else {}
    )
    return baselines, scores


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
        "candidates": [_candidate_json(s) for s in scores],
    }


def _candidate_json(score: CandidateScore) -> dict[str, Any]:
    saving = score.mean_saving
    return {
        "label": score.candidate.label,
        "schedule": score.candidate.schedule.model_dump(mode="json"),
        "env": dict(score.candidate.env),
        "scenarios_met": score.met,
        "checks_missed": score.missed,
        "mean_saving_vs_market": None if saving is None else round(float(saving), 3),
        "scenarios": {
            name: {
                "outcome": score.verdicts[name].outcome.value,
                "misses": score.verdicts[name].misses(),
                "smart": policy_json(report.policies[CANDIDATE]),
                "paired": {o: paired_json(d) for o, d in paired(report)[CANDIDATE].items()},
                "half_spread_saved": {
                    o: saving_json(v) for o, v in savings(report)[CANDIDATE].items()
                },
            }
            for name, report in score.reports.items()
        },
    }
