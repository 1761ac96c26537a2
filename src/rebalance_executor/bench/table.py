"""The comparison tables (rich terminal and markdown): figures per scenario and policy, where
the slippage comes from (bench.tca_table), the paired per-seed differences, and the computed
target verdict for smart."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from rich.console import Console
from rich.table import Table

from rebalance_executor.bench.paired import PairedDiff
from rebalance_executor.bench.report import (
    BASELINE,
    PolicyStats,
    ScenarioReport,
    paired,
    savings,
)
from rebalance_executor.bench.sections import Row, add_sections, markdown_rows
from rebalance_executor.bench.spread import HalfSpreadSaving
from rebalance_executor.bench.targets import Outcome, ScenarioVerdict, judge
from rebalance_executor.bench.tca_table import tca_markdown, tca_table
from rebalance_executor.bench.verdict_table import print_verdict, verdict_markdown

if TYPE_CHECKING:
    from rebalance_executor.bench.sweep import CandidateScore


def _bps(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def _num(value: Decimal | None, fmt: str = ".2f") -> str:
    return "—" if value is None else format(value, fmt)


MAIN_TITLE: Final = (
    "Execution quality (SPEC §8): slippage vs arrival mid (bps, + is a cost); h = arrival "
    "half-spread (bps); saved/h = saving vs market in h, mean over seeds [95%]"
)
MAIN_HEADERS: Final = (
    "scenario",
    "policy",
    "slip bps",
    "p95 bps",
    "h bps",
    "saved/h vs market",
    "fill %",
    "wall s",
    "req",
    "req/order",
    "peak/min",
    "§4.10 viol.",
    "statuses",
)


def _saved(value: HalfSpreadSaving | None) -> str:
    if value is None:
        return "—"
    ci = value.ci95
    return f"{value.fraction:+.2f}" + ("" if ci is None else f" [{ci[0]:+.2f}, {ci[1]:+.2f}]")


def _main_rows(report: ScenarioReport) -> list[Row]:
    """One row per policy; the best slippage of the scenario is bold (terminal only)."""
    saved = savings(report)
    best = _best_policy(report)
    rows: list[Row] = []
    for name, s in report.policies.items():
        slip = _bps(s.slippage_bps)
        rows.append(
            (
                name,
                [
                    f"[bold]{slip}[/bold]" if name == best else slip,
                    _bps(s.slippage_bps_p95),
                    _num(s.half_spread_bps, ".3f"),
                    _saved(saved[name].get(BASELINE)),
                    f"{s.fill_rate * 100:.2f}",
                    f"{s.wall_s:.0f}",
                    f"{s.requests_total:.0f}",
                    _num(s.requests_per_order),
                    str(s.peak_requests_per_min),
                    str(s.violations),
                    " ".join(f"{k}:{v}" for k, v in sorted(s.statuses.items())),
                ],
            )
        )
    return rows


def build_table(reports: Sequence[ScenarioReport]) -> Table:
    """Rows grouped by scenario (named with its item count)."""
    table = Table(title=MAIN_TITLE)
    for header in MAIN_HEADERS:
        table.add_column(header, justify="left" if header in _LEFT else "right")
    add_sections(table, _labelled(reports), _main_rows)
    return table


_LEFT: Final = ("scenario", "policy", "statuses")


def _labelled(reports: Sequence[ScenarioReport]) -> list[ScenarioReport]:
    """The reports with their scenario named "name (items)" for the main table."""
    return [dataclasses.replace(r, scenario=f"{r.scenario} ({r.item_count})") for r in reports]


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
    """Each pair of policies once (the JSON has both directions: one is the other negated)."""
    seen: set[frozenset[str]] = set()
    rows = []
    for policy, by_other in reversed(paired(report).items()):
        for other, diff in by_other.items():
            if frozenset((policy, other)) not in seen:
                seen.add(frozenset((policy, other)))
                rows.append((f"{policy} - {other}", diff))
    return rows


def _paired_row_cells(report: ScenarioReport) -> list[Row]:
    return [(pair, _paired_cells(diff)) for pair, diff in _paired_rows(report)]


def _paired_cells(diff: PairedDiff | None) -> tuple[str, str, str, str]:
    if diff is None:
        return ("—", "—", "—", "0")
    ci = diff.ci95_bps
    interval = "—" if ci is None else f"[{ci[0]:+.2f}, {ci[1]:+.2f}]"
    return (_bps(diff.mean_bps), _num(diff.se_bps), interval, str(diff.n))


def print_report(reports: Sequence[ScenarioReport], console: Console, elapsed_s: float) -> None:
    """The table, its decomposition, the paired differences, then the target verdict (misses
    listed, never hidden)."""
    console.print(build_table(reports))
    console.print(tca_table(reports))
    if any(len(r.policies) > 1 for r in reports):
        console.print(paired_table(reports))
    verdict = judge(reports)
    if verdict is not None:
        print_verdict(verdict, console)
    console.print(f"elapsed {elapsed_s:.0f} s real")


def print_sweep(
    baselines: Mapping[str, Mapping[str, PolicyStats]],
    scores: Sequence[CandidateScore],
    console: Console,
) -> None:
    """One row per candidate (best first): scenarios meeting SPEC §8, checks missed, the mean
    saving vs market in half-spreads, then per scenario the saving and its verdict."""
    names = list(baselines)
    table = Table(title="Smart schedule sweep: saving vs market in half-spreads and the verdict")
    for header in ("candidate", "met", "missed", "mean saved/h", *names, "min fill %"):
        table.add_column(header, justify="left" if header == "candidate" else "right")
    for score in scores:
        per = score.per_scenario
        table.add_row(
            score.candidate.label,
            str(score.met),
            str(score.missed),
            _num(score.mean_saving, "+.2f"),
            *[_sweep_cell(score.verdicts[n]) for n in names],
            f"{min(s.fill_rate for s in per.values()) * 100:.2f}",
        )
    console.print(table)


def _sweep_cell(verdict: ScenarioVerdict) -> str:
    saved = verdict.saved_vs_market
    mark = {Outcome.MET: "✓", Outcome.NOT_MET: "✗", Outcome.NOT_JUDGED: "—"}[verdict.outcome]
    return f"{mark} {'—' if saved is None else f'{saved.fraction:+.2f}'}"


def markdown_table(reports: Sequence[ScenarioReport]) -> str:
    """The comparison table as GitHub markdown (``--markdown``, out/bench.md), then
    the decomposition, the paired differences and the target verdict as three more tables."""
    sections = [_markdown_main(reports), tca_markdown(reports)]
    if any(len(r.policies) > 1 for r in reports):
        sections.append(_markdown_paired(reports))
    verdict = judge(reports)
    if verdict is not None:
        sections.append(verdict_markdown(verdict))
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


def _markdown_main(reports: Sequence[ScenarioReport]) -> str:
    lines = [
        f"{MAIN_TITLE}.",
        "",
        "| " + " | ".join(MAIN_HEADERS) + " |",
        "|---|---|" + "---:|" * (len(MAIN_HEADERS) - 3) + "---|",
    ]
    lines.extend(markdown_rows(_labelled(reports), _main_rows))
    return "\n".join(lines).replace("[bold]", "").replace("[/bold]", "") + "\n"
