"""The comparison tables (rich terminal and markdown): figures per scenario and policy, where
the slippage comes from (bench.tca_table), the paired per-seed differences, and the computed
target verdict for smart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from rich.console import Console
from rich.table import Table

from rebalance_executor.bench.paired import PairedDiff
from rebalance_executor.bench.report import BASELINE, PolicyStats, ScenarioReport, paired
from rebalance_executor.bench.sections import Row, add_sections, markdown_rows

# re-exported: sweep.py imports FILL_TARGET from here
from rebalance_executor.bench.targets import FILL_TARGET as FILL_TARGET  # noqa: PLC0414
from rebalance_executor.bench.targets import (
    PEAK_PER_MIN_TARGET,
    ScenarioVerdict,
    TargetVerdict,
    judge,
)
from rebalance_executor.bench.tca_table import tca_markdown, tca_table

if TYPE_CHECKING:
    from rebalance_executor.bench.sweep import CandidateScore


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
        ("§4.10 viol.", "right"),
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
                str(stats.violations),
                " ".join(f"{k}:{v}" for k, v in sorted(stats.statuses.items())),
                end_section=index == len(report.policies) - 1,
            )
    return table


def _best_policy(report: ScenarioReport) -> str | None:
    scored = [(s.slippage_bps, n) for n, s in report.policies.items() if s.slippage_bps is not None]
    return min(scored)[1] if scored else None


def paired_table(reports: Sequence[ScenarioReport]) -> Table:
    """Per-seed paired differences (policy - other): mean, SE, 95% interval, seeds paired."""
    table = Table(title="Paired by seed: policy - other slippage (bps; - = policy cheaper)")
    for header in ("scenario", "policy - other", "mean", "SE", "95% interval", "n"):
        table.add_column(header, justify="left" if header[0] in "sp" else "right")
    add_sections(table, reports, _paired_row_cells)
    return table


def _paired_rows(report: ScenarioReport) -> list[tuple[str, PairedDiff | None]]:
    return [
        (f"{policy} - {other}", diff)
        for policy, by_other in paired(report).items()
        for other, diff in by_other.items()
    ]


def _paired_row_cells(report: ScenarioReport) -> list[Row]:
    return [(pair, _paired_cells(diff)) for pair, diff in _paired_rows(report)]


def _paired_cells(diff: PairedDiff | None) -> tuple[str, str, str, str]:
    if diff is None:
        return ("—", "—", "—", "0")
    ci = diff.ci95_bps
    interval = "—" if ci is None else f"[{ci[0]:+.2f}, {ci[1]:+.2f}]"
    return (_bps(diff.mean_bps), _num(diff.se_bps), interval, str(diff.n))


_VERDICT_HEADERS: Final = (
    "scenario",
    "beats market",
    "beats anchor",
    "fill ≥ 99.5%",
    "req/order ≤ 4",
    "peak/min < 200",
    "met",
    "significantly",
)


def _verdict_cells(v: ScenarioVerdict) -> list[str]:
    checks = v.checks
    beats = {b.rival: _beat_cell(b.beats, b.significant) for b in v.beats}
    return [
        v.scenario,
        beats["market"],
        beats["anchor"],
        f"{_mark(checks['fill_rate_ok'])} {v.fill_rate * 100:.2f}",
        f"{_mark(checks['requests_per_order_ok'])} {_num(v.requests_per_order)}",
        f"{_mark(checks['peak_ok'])} {v.peak_requests_per_min}",
        _mark(v.met),
        _mark(v.met_significantly),
    ]


def _beat_cell(beats: bool | None, significant: bool | None) -> str:
    if beats is None:
        return "not judged"
    if not beats:
        return "✗ no"
    return "✓ yes, significant" if significant else "✓ yes, not significant"


def _mark(ok: bool | None) -> str:
    return "—" if ok is None else ("✓" if ok else "✗")


def verdict_table(verdict: TargetVerdict) -> Table:
    """One row per scenario: each SPEC §8 target for smart, ✓ met / ✗ missed / — not judged."""
    table = Table(title="Targets for smart (computed; significant = paired 95% interval < 0)")
    for header in _VERDICT_HEADERS:
        table.add_column(
            header, justify="left" if header.startswith(("scenario", "beats")) else "right"
        )
    for v in verdict.scenarios:
        table.add_row(*_verdict_cells(v))
    return table


def verdict_summary(verdict: TargetVerdict) -> str:
    """One line: how many scenarios meet the targets on means and significantly."""
    total = len(verdict.scenarios)
    on_means = sum(v.met for v in verdict.scenarios)
    significant = sum(v.met_significantly for v in verdict.scenarios)
    scale = verdict.scale_200
    peak = (
        "200-item plan not run"
        if scale is None
        else f"200-item plan peak {scale.peak_requests_per_min}/min "
        f"{'<' if scale.peak_requests_per_min < PEAK_PER_MIN_TARGET else '≥'} 200"
    )
    return (
        f"smart meets the targets in {on_means}/{total} scenarios on means, "
        f"{significant}/{total} significantly; {peak}"
    )


def print_report(reports: Sequence[ScenarioReport], console: Console, elapsed_s: float) -> None:
    """The table, its decomposition, the paired differences, then the target verdict (misses
    listed, never hidden)."""
    console.print(build_table(reports))
    console.print(tca_table(reports))
    if any(len(r.policies) > 1 for r in reports):
        console.print(paired_table(reports))
    verdict = judge(reports)
    if verdict is not None:
        console.print(verdict_table(verdict))
        if verdict.misses():
            console.print("[bold red]Targets missed:[/bold red]")
        for line in verdict.misses():
            console.print(f"  • {line}")
        for line in verdict.not_judged():
            console.print(f"  [yellow]not judged:[/yellow] {line}")
        style = "green" if verdict.met_significantly else "yellow" if verdict.met else "red"
        console.print(f"[bold {style}]{verdict_summary(verdict)}[/bold {style}]")
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
    """The comparison table as GitHub markdown (for docs/bench/bench.md and the README), then
    the decomposition, the paired differences and the target verdict as three more tables."""
    sections = [_markdown_main(reports), tca_markdown(reports)]
    if any(len(r.policies) > 1 for r in reports):
        sections.append(_markdown_paired(reports))
    verdict = judge(reports)
    if verdict is not None:
        sections.append(_markdown_verdict(verdict))
    return "\n".join(sections)


def _markdown_paired(reports: Sequence[ScenarioReport]) -> str:
    lines = [
        "Paired by seed: policy - other slippage (bps; - = policy cheaper), "
        "mean over seeds with its standard error and 95% t interval.",
        "",
        "| scenario | policy - other | mean | SE | 95% interval | n |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines.extend(markdown_rows(reports, _paired_row_cells))
    return "\n".join(lines) + "\n"


def _markdown_verdict(verdict: TargetVerdict) -> str:
    lines = [
        "Targets for smart (computed; significant = paired 95% interval entirely below 0; "
        "✓ met, ✗ missed, — not judged).",
        "",
        "| " + " | ".join(_VERDICT_HEADERS) + " |",
        "|---|---|---|" + "---:|" * (len(_VERDICT_HEADERS) - 3),
    ]
    lines += ["| " + " | ".join(_verdict_cells(v)) + " |" for v in verdict.scenarios]
    lines += ["", *(f"- missed: {m}" for m in verdict.misses())]
    lines += [f"- not judged: {m}" for m in verdict.not_judged()]
    lines += ["", f"**{verdict_summary(verdict)}**"]
    return "\n".join(lines) + "\n"


def _markdown_main(reports: Sequence[ScenarioReport]) -> str:
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
