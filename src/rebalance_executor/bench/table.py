"""The terminal comparison table (rich): one row per scenario and policy, plus target checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from rich.console import Console
from rich.table import Table

from rebalance_executor.bench.report import BASELINE, PolicyStats, ScenarioReport

if TYPE_CHECKING:
    from rebalance_executor.bench.sweep import CandidateScore

FILL_TARGET: Final = Decimal("0.995")
REQUESTS_PER_ORDER_TARGET: Final = Decimal(4)
PEAK_PER_MIN_TARGET: Final = 200
CANDIDATE: Final = "smart"


def _bps(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def _num(value: Decimal | None, fmt: str = ".2f") -> str:
    return "—" if value is None else format(value, fmt)


def build_table(reports: Sequence[ScenarioReport]) -> Table:
    """Rows grouped by scenario; the best slippage of each scenario is bold."""
    table = Table(title="Execution quality (SPEC §8) — slippage vs arrival mid, + is a cost")
    for header, justify in (
        ("scenario", "left"),
        ("policy", "left"),
        ("slip bps", "right"),
        ("p95 bps", "right"),
        ("Δ mkt", "right"),
        ("fill %", "right"),
        ("wall s", "right"),
        ("req", "right"),
        ("req/order", "right"),
        ("peak/min", "right"),
        ("statuses", "left"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for report in reports:
        best = _best_policy(report)
        base = report.policies.get(BASELINE)
        for index, (name, stats) in enumerate(report.policies.items()):
            delta = (
                None
                if base is None or stats.slippage_bps is None or base.slippage_bps is None
                else stats.slippage_bps - base.slippage_bps
            )
            slip = _bps(stats.slippage_bps)
            table.add_row(
                f"{report.scenario} ({report.item_count})" if index == 0 else "",
                name,
                f"[bold]{slip}[/bold]" if name == best else slip,
                _bps(stats.slippage_bps_p95),
                _bps(delta),
                f"{stats.fill_rate * 100:.2f}",
                f"{stats.wall_s:.0f}",
                f"{stats.requests_total:.0f}",
                _num(stats.requests_per_order),
                str(stats.peak_requests_per_min),
                " ".join(f"{k}:{v}" for k, v in sorted(stats.statuses.items())),
                end_section=index == len(report.policies) - 1,
            )
    return table


def _best_policy(report: ScenarioReport) -> str | None:
    scored = [(s.slippage_bps, n) for n, s in report.policies.items() if s.slippage_bps is not None]
    return min(scored)[1] if scored else None


def target_checks(reports: Sequence[ScenarioReport]) -> list[str]:
    """Issue-6 targets for ``smart``, one line per miss (empty when all are met or not run)."""
    misses = []
    for report in reports:
        smart = report.policies.get(CANDIDATE)
        if smart is None:
            continue
        misses.extend(_misses(report, smart))
    return misses


def _misses(report: ScenarioReport, smart: PolicyStats) -> list[str]:
    out = []
    name = report.scenario
    for other in ("market", "anchor"):
        rival = report.policies.get(other)
        if rival is None or rival.slippage_bps is None:
            continue
        if smart.slippage_bps is None or smart.slippage_bps >= rival.slippage_bps:
            out.append(
                f"{name}: smart slippage {_bps(smart.slippage_bps)} bps does not beat "
                f"{other} {_bps(rival.slippage_bps)} bps"
            )
    if smart.fill_rate < FILL_TARGET:
        out.append(f"{name}: smart fill rate {smart.fill_rate * 100:.2f}% < 99.5%")
    rpo = smart.requests_per_order
    if rpo is not None and rpo > REQUESTS_PER_ORDER_TARGET:
        out.append(f"{name}: smart {rpo:.2f} requests per order > 4")
    if smart.peak_requests_per_min >= PEAK_PER_MIN_TARGET:
        out.append(f"{name}: smart peak {smart.peak_requests_per_min} requests/min ≥ 200")
    if not report.quote_paths_identical:
        out.append(f"{name}: policies did NOT see identical quote paths")
    return out


def print_report(reports: Sequence[ScenarioReport], console: Console, elapsed_s: float) -> None:
    """The table, then the target verdict (misses listed, never hidden)."""
    console.print(build_table(reports))
    misses = target_checks(reports)
    if any(CANDIDATE in r.policies for r in reports):
        if misses:
            console.print("[bold red]Targets missed:[/bold red]")
            for line in misses:
                console.print(f"  • {line}")
        else:
            console.print("[bold green]All issue-6 targets met for smart.[/bold green]")
    console.print(f"elapsed {elapsed_s:.0f} s real")


def print_sweep(
    baselines: Mapping[str, Mapping[str, PolicyStats]],
    scores: Sequence[CandidateScore],
    console: Console,
) -> None:
    """One row per candidate (best first): wins, mean margin, per-scenario smart slippage."""
    names = list(baselines)
    table = Table(title="Smart schedule sweep (slippage bps; baseline = better of market/anchor)")
    for header in ("candidate", "wins", "margin", *names, "min fill %", "max req/order"):
        table.add_column(header, justify="left" if header == "candidate" else "right")
    table.add_row(
        "[dim]best baseline[/dim]",
        "",
        "",
        *[_bps(_best_baseline(baselines[n])) for n in names],
        "",
        "",
        end_section=True,
    )
    for score in scores:
        per = score.per_scenario
        rpo = [s.requests_per_order for s in per.values() if s.requests_per_order is not None]
        table.add_row(
            score.candidate.label,
            str(score.wins),
            _bps(score.mean_margin_bps),
            *[_bps(per[n].slippage_bps) for n in names],
            f"{min(s.fill_rate for s in per.values()) * 100:.2f}",
            _num(max(rpo) if rpo else None),
        )
    console.print(table)


def _best_baseline(by_policy: Mapping[str, PolicyStats]) -> Decimal | None:
    values = [s.slippage_bps for s in by_policy.values() if s.slippage_bps is not None]
    return min(values) if values else None


def markdown_table(reports: Sequence[ScenarioReport]) -> str:
    """The comparison table as GitHub markdown (for the README's results section)."""
    lines = [
        "| scenario (items) | policy | slippage bps | p95 bps | Δ vs market | fill % | wall s "
        "| requests | req/order | peak/min |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for report in reports:
        base = report.policies.get(BASELINE)
        for index, (name, s) in enumerate(report.policies.items()):
            delta = (
                None
                if base is None or s.slippage_bps is None or base.slippage_bps is None
                else s.slippage_bps - base.slippage_bps
            )
            label = f"{report.scenario} ({report.item_count})" if index == 0 else ""
            lines.append(
                f"| {label} | {name} | {_bps(s.slippage_bps)} | {_bps(s.slippage_bps_p95)} "
                f"| {_bps(delta)} | {s.fill_rate * 100:.2f} | {s.wall_s:.0f} "
                f"| {s.requests_total:.0f} | {_num(s.requests_per_order)} "
                f"| {s.peak_requests_per_min} |"
            )
    return "\n".join(lines) + "\n"
