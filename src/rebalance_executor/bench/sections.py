"""Tables grouped by scenario (terminal and markdown): the scenario is named on its group's
first row only, and each group is its own section."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.table import Table

from rebalance_executor.bench.report import ScenarioReport

# One row: its label (a policy, or a pair of policies) and the remaining cells.
Row = tuple[str, Sequence[str]]
RowsOf = Callable[[ScenarioReport], Sequence[Row]]


def add_sections(table: Table, reports: Sequence[ScenarioReport], rows_of: RowsOf) -> None:
    """Append every report's rows to ``table``, one section per scenario."""
    for report in reports:
        rows = rows_of(report)
        for index, (label, cells) in enumerate(rows):
            table.add_row(
                report.scenario if index == 0 else "",
                label,
                *cells,
                end_section=index == len(rows) - 1,
            )


def markdown_rows(reports: Sequence[ScenarioReport], rows_of: RowsOf) -> list[str]:
    """The same rows as GitHub markdown table lines."""
    lines = []
    for report in reports:
        for index, (label, cells) in enumerate(rows_of(report)):
            scenario = report.scenario if index == 0 else ""
            lines.append(f"| {scenario} | {label} | " + " | ".join(cells) + " |")
    return lines
