"""The decomposition table (rich terminal and markdown): per scenario and policy, slippage =
timing + execution, the fill-mechanism mix and execution by mechanism, and the paired
per-seed execution difference against ``market`` (see bench.decompose)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from rich.table import Table

from alpaca_sim.fills import TRIGGERS
from rebalance_executor.bench.paired import PairedDiff
from rebalance_executor.bench.report import BASELINE, PolicyStats, ScenarioReport, paired
from rebalance_executor.bench.sections import add_sections, markdown_rows

TITLE: Final = (
    "Where the slippage comes from (bps, + is a cost): slip = timing + exec; % = share of "
    "filled notional by fill trigger"
)
LEGEND: Final = (
    "timing = mid at the fill vs arrival mid (the market moved while the order worked, "
    "including the adverse selection of passive fills); exec = fill price vs mid at the fill; "
    "taker = our marketable orders, flow = opposite takers reached our resting limit through "
    "its queue, path = the quote's path ran through our limit (both at the limit); "
    "exec - market is the paired per-seed difference with its 95% t interval."
)
HEADERS: Final = (
    "scenario",
    "policy",
    "slip",
    "timing",
    "exec",
    *(f"{t} %" for t in TRIGGERS),
    *(f"exec {t}" for t in TRIGGERS),
    "exec - market [95%]",
)


def _bps(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def _share(mix: dict[str, Decimal] | None, trigger: str) -> str:
    return "—" if mix is None else f"{mix[trigger] * 100:.1f}"


def _diff(diff: PairedDiff | None) -> str:
    if diff is None:
        return "—"
    ci = diff.ci95_bps
    return _bps(diff.mean_bps) + ("" if ci is None else f" [{ci[0]:+.2f}, {ci[1]:+.2f}]")


def _cells(stats: PolicyStats, vs_market: PairedDiff | None) -> list[str]:
    by_trigger = stats.execution_bps_by_trigger
    return [
        _bps(stats.slippage_bps),
        _bps(stats.timing_bps),
        _bps(stats.execution_bps),
        *(_share(stats.fill_mix, t) for t in TRIGGERS),
        *(_bps(by_trigger.get(t)) for t in TRIGGERS),
        _diff(vs_market),
    ]


def _rows(report: ScenarioReport) -> list[tuple[str, list[str]]]:
    execution = paired(report, "execution")
    return [
        (name, _cells(stats, execution[name].get(BASELINE)))
        for name, stats in report.policies.items()
    ]


def tca_table(reports: Sequence[ScenarioReport]) -> Table:
    """One row per scenario and policy."""
    table = Table(title=TITLE)
    for header in HEADERS:
        table.add_column(header, justify="left" if header in ("scenario", "policy") else "right")
    add_sections(table, reports, _rows)
    return table


def tca_markdown(reports: Sequence[ScenarioReport]) -> str:
    """The same table as GitHub markdown."""
    lines = [
        f"{TITLE}. {LEGEND}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|---|---|" + "---:|" * (len(HEADERS) - 2),
    ]
    lines.extend(markdown_rows(reports, _rows))
    return "\n".join(lines) + "\n"
