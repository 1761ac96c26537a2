"""``rebalance-executor bench`` — the execution-quality and scale benchmark (SPEC §8).

Runs each policy through the full handler path on identical simulated markets (seeds
K..K+N-1, at most a scenario's ``max_seeds``), prints the comparison, the paired differences and
the computed SPEC §8 verdict, writes the JSON (SPEC §8 keys) and optionally a PNG and markdown.
``--all`` runs the shipped scenario set. Exit 0 when every run completed (targets missed are
reported, not an error), 2 for bad arguments or an invalid scenario file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from decimal import InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console

from rebalance_executor.bench.chart import write_chart
from rebalance_executor.bench.metrics import RunRecord
from rebalance_executor.bench.report import ScenarioReport, bench_json, scenario_report
from rebalance_executor.bench.runner import (
    DEFAULT_FEED,
    FEEDS,
    POLICIES,
    RunSpec,
    default_jobs,
    run_many,
    specs_for,
)
from rebalance_executor.bench.scenario import BenchScenario, ScenarioError, shipped_paths
from rebalance_executor.bench.sweep import load_grid, run_sweep, sweep_json
from rebalance_executor.bench.table import markdown_table, print_report, print_sweep
from rebalance_executor.bench.targets import judge, targets_json
from rebalance_executor.cli.events_io import EXIT_BAD_INPUT, EXIT_OK
from rebalance_executor.domain.config import SmartSchedule

DEFAULT_SEEDS = 10


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="execution-quality benchmark: policies side by side on identical markets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--scenario",
        type=Path,
        action="append",
        metavar="FILE",
        help="any scenario file in the SPEC §7.2 keys (repeatable); without a plan it gets the "
        "default plan (scenarios/README.md)",
    )
    which.add_argument("--all", action="store_true", help="the shipped scenario set")
    parser.add_argument("--scenario-dir", type=Path, default=Path("scenarios"), metavar="DIR")
    parser.add_argument(
        "--seeds", type=int, default=DEFAULT_SEEDS, metavar="N", help="seeds K..K+N-1 per scenario"
    )
    parser.add_argument(
        "--seed-base",
        type=int,
        default=0,
        metavar="K",
        help="first seed (held-out: 0; tuning ≥ 1000)",
    )
    parser.add_argument("--policies", default=",".join(POLICIES), help="comma-separated")
    parser.add_argument(
        "--feed",
        choices=FEEDS,
        default=DEFAULT_FEED,
        help=f"market-data feed the executor reads (ALPACA_DATA_FEED; default {DEFAULT_FEED}, "
        "the NBBO orders fill against; iex measures the single-venue data handicap)",
    )
    parser.add_argument(
        "--streams",
        choices=("on", "off"),
        default="off",
        help="the executor follows Alpaca's streams (STREAMS_ENABLED=true, the product default) "
        "or only polls (default here: exactly reproducible and several times faster; "
        "make bench-streams pairs the two)",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="OUT")
    parser.add_argument("--png", type=Path, default=None, metavar="OUT")
    parser.add_argument("--markdown", type=Path, default=None, metavar="OUT", help="table as .md")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="worker processes")
    parser.add_argument(
        "--smart",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a SmartSchedule field for this run (tuning sweeps)",
    )
    parser.add_argument(
        "--sweep",
        type=Path,
        default=None,
        metavar="GRID",
        help="tune smart: JSON list of SmartSchedule overrides, ranked against the baselines",
    )
    parser.set_defaults(func=run)


def parse_policies(text: str, seeds: int) -> list[str]:
    """``"market,smart"`` → names. Raises ValueError for unknown names, none, or seeds < 1."""
    policies = [p.strip() for p in text.split(",") if p.strip()]
    unknown = sorted(set(policies) - set(POLICIES))
    if unknown or not policies:
        raise ValueError(f"--policies: unknown or empty {unknown or text!r}; choose {POLICIES}")
    if seeds < 1:
        raise ValueError(f"--seeds: must be at least 1 (got {seeds})")
    return policies


def parse_smart(overrides: Sequence[str]) -> SmartSchedule | None:
    """``["repeg_interval_s=5", ...]`` → a SmartSchedule over the defaults. Raises ValueError."""
    if not overrides:
        return None
    fields: dict[str, Any] = {}
    for text in overrides:
        name, sep, value = text.partition("=")
        if not sep:
            raise ValueError(f"--smart {text!r}: expected FIELD=VALUE")
        fields[name.strip()] = value.strip()
    try:
        return SmartSchedule.model_validate({**SmartSchedule().model_dump(), **fields})
    except (ValidationError, InvalidOperation) as exc:
        raise ValueError(f"--smart: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    console = Console()
    if not console.is_terminal:  # piped (make bench | tee): do not squeeze the table to 80
        console = Console(width=150)
    try:
        scenarios = _load(args)
        policies = parse_policies(str(args.policies), args.seeds)
        smart = parse_smart(args.smart)
    except (ScenarioError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    seeds = list(range(args.seed_base, args.seed_base + args.seeds))
    if args.sweep is not None:
        return _sweep(args, scenarios, seeds, console)
    started = time.monotonic()
    streams = args.streams == "on"
    specs = [
        spec
        for sc in scenarios
        for spec in specs_for(sc, sc.seeds(seeds), policies, smart, args.feed, streams=streams)
    ]
    reports = _run_all(scenarios, seeds, specs, args.jobs, console)
    elapsed = time.monotonic() - started
    print_report(reports, console, elapsed)
    if args.json is not None:
        document = bench_json(reports, elapsed, args.jobs, targets_json(judge(reports)))
        document["feed"] = args.feed
        document["streams"] = args.streams
        if smart is not None:
            document["smart_overrides"] = {k: str(v) for k, v in smart.model_dump().items()}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if args.png is not None:
        args.png.parent.mkdir(parents=True, exist_ok=True)
        write_chart(reports, args.png)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown_table(reports), encoding="utf-8")
    return EXIT_OK


def _load(args: argparse.Namespace) -> list[BenchScenario]:
    paths: list[Path] = shipped_paths(args.scenario_dir) if args.all else list(args.scenario)
    return [BenchScenario.load(p) for p in paths]


def _run_all(
    scenarios: Sequence[BenchScenario],
    seeds: Sequence[int],
    specs: Sequence[RunSpec],
    jobs: int,
    console: Console,
) -> list[ScenarioReport]:
    """All runs of all scenarios in one worker pool (2 cores stay busy across scenarios)."""
    records = run_many(specs, jobs=jobs, progress=_progress(console))
    return [
        scenario_report(sc, sc.seeds(seeds), [r for r in records if r.scenario == sc.name])
        for sc in scenarios
    ]


def _sweep(
    args: argparse.Namespace, scenarios: Sequence[BenchScenario], seeds: list[int], console: Console
) -> int:
    try:
        candidates = load_grid(args.sweep)
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    baselines, scores = run_sweep(
        scenarios, seeds, candidates, args.jobs, _progress(console), feed=args.feed
    )
    print_sweep(baselines, scores, console)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {**sweep_json(baselines, scores, seeds), "feed": args.feed}
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return EXIT_OK


def _progress(console: Console) -> Callable[[RunRecord], None]:
    def progress(record: RunRecord) -> None:
        slip = record.slippage_bps
        console.print(
            f"[dim]{record.scenario:>16} seed {record.seed:<4} {record.policy:<6} "
            f"{record.status:<9} slip {'—' if slip is None else f'{slip:+.2f}'} bps "
            f"fill {record.fill_rate * 100:.1f}% wall {record.wall_s:.0f}s "
            f"req {record.requests_total} ({record.real_s:.1f}s real)[/dim]"
        )

    return progress
