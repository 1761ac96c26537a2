"""The terminal report of one execution (SPEC §3.5): a header, an item table, the plan's totals.

Designed for the operator reading it at 15:46: status and reason first, then per item the side,
planned vs filled, average price vs arrival, slippage, and why anything was not done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich import box
from rich.console import Console, Group, JustifyMethod, OverflowMethod
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ItemOutcome,
    ItemResult,
    ReferenceSource,
)
from rebalance_executor.reporting import format as fmt
from rebalance_executor.reporting.loading import ResultLoadError, load_result

__all__ = ["WIDE_MIN_WIDTH", "ResultLoadError", "build_report", "load_result", "print_result"]

# Below this console width the item table drops quantities, order counts and reasons (listed
# after the table instead) so an 80-column terminal shows every value without truncation.
WIDE_MIN_WIDTH = 150

STATUS_STYLE: dict[ExecutionStatus, str] = {
    ExecutionStatus.SUCCEEDED: "bold green",
    ExecutionStatus.PARTIAL: "bold yellow",
    ExecutionStatus.FAILED: "bold red",
    ExecutionStatus.REJECTED: "bold red",
    ExecutionStatus.SKIPPED: "bold blue",
    ExecutionStatus.DRY_RUN: "bold cyan",
}
OUTCOME_STYLE: dict[ItemOutcome, str] = {
    ItemOutcome.FILLED: "green",
    ItemOutcome.OVERFILLED: "bold red",
    ItemOutcome.PARTIAL: "yellow",
    ItemOutcome.NOT_FILLED: "red",
    ItemOutcome.NOT_TRADED: "magenta",
    ItemOutcome.HOLD: "dim",
    ItemOutcome.DRY_RUN: "cyan",
    ItemOutcome.OVERFILLED: "bold red",
}


def print_result(document: ExecutionResult, console: Console) -> None:
    """Print the full report of ``document`` to ``console``. Never raises for a valid result.

    On a console narrower than :data:`WIDE_MIN_WIDTH` the item table keeps the essential columns
    (so nothing is truncated at 80 columns) and the reasons follow it as a list.
    """
    console.print(build_report(document, wide=console.width >= WIDE_MIN_WIDTH))


def build_report(result: ExecutionResult, *, wide: bool = True) -> Group:
    """The report as a rich renderable (header panel, item table, totals)."""
    parts: list[Panel | Table | Text] = [_header(result)]
    if result.items:
        parts.append(_items_table(result, wide=wide))
        if not wide and any(fmt.reason_label(i) for i in result.items):
            parts.append(_reasons(result))
    else:
        parts.append(Text("No items were executed.", style="dim"))
    parts.append(_totals(result))
    return Group(*parts)


def _header(result: ExecutionResult) -> Panel:
    title = Text.assemble(
        ("Plan ", "bold"),
        (result.plan_id, "bold"),
        "  ",
        (result.status.value, STATUS_STYLE[result.status]),
    )
    lines = Text()
    if result.reason:
        lines.append(f"Reason: {result.reason}\n", style=STATUS_STYLE[result.status])
    policy = result.tca.policy if result.tca else fmt.DASH
    lines.append(
        f"Policy: {policy}   Dry run: {'yes' if result.dry_run else 'no'}   "
        f"Started: {fmt.timestamp(result.started_at)}   "
        f"Finished: {fmt.timestamp(result.finished_at)}"
    )
    if result.plan is not None:
        lines.append(
            f"\nPlan timestamp: {fmt.timestamp(result.plan.timestamp)}   "
            f"Correlation id: {result.plan.correlation_id or fmt.DASH}"
        )
    return Panel(lines, title=title, title_align="left", expand=True)


def _items_table(result: ExecutionResult, *, wide: bool) -> Table:
    table = Table(
        title="Items",
        title_justify="left",
        header_style="bold",
        box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        show_edge=wide,
        pad_edge=wide,
        collapse_padding=not wide,
    )
    columns = [c for c in _COLUMNS if wide or not c.wide_only]
    for column in columns:
        table.add_column(column.header, justify=column.justify, overflow=column.overflow)
    for item in result.items:
        table.add_row(*(column.cell(item) for column in columns))
    return table


def _reasons(result: ExecutionResult) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.title = "Not done"
    grid.title_justify = "left"
    grid.title_style = "bold"
    for item in result.items:
        label = fmt.reason_label(item)
        if label:
            grid.add_row(item.symbol, _outcome(item), label)
    return grid


def _outcome(item: ItemResult) -> Text:
    return Text(item.outcome.value, style=OUTCOME_STYLE[item.outcome])


def _orders(item: ItemResult) -> str:
    return f"{item.orders_count} ({item.replaces_count} repl)" if item.orders_count else "0"


def _arrival(item: ItemResult) -> str:
    """The arrival price, marked when it is a trade reference (the quote could not price it)."""
    price = fmt.price(item.arrival_mid)
    trade = item.reference is not None and item.reference.source is ReferenceSource.TRADE
    return f"{price} (trade)" if trade else price


@dataclass(frozen=True)
class _Column:
    header: str
    cell: Callable[[ItemResult], str | Text]
    justify: JustifyMethod = "right"
    wide_only: bool = False
    overflow: OverflowMethod = "ellipsis"


_COLUMNS: tuple[_Column, ...] = (
    _Column("#", lambda i: str(i.index), wide_only=True),
    _Column("Symbol", lambda i: i.symbol, justify="left"),
    _Column("Side", fmt.side_label, justify="left"),
    _Column("Planned", lambda i: fmt.money(abs(i.planned_notional))),
    _Column("Filled", lambda i: fmt.money(i.filled_notional)),
    _Column(
        "Qty plan/fill",
        lambda i: f"{fmt.qty(i.planned_qty)} / {fmt.qty(i.filled_qty)}",
        wide_only=True,
    ),
    _Column("Avg fill", lambda i: fmt.avg_price(i.avg_fill_price)),
    _Column("Arrival", _arrival),
    _Column("Slip bps", lambda i: fmt.bps(i.slippage_bps)),
    _Column("Orders", _orders, wide_only=True),
    _Column("Outcome", _outcome, justify="left"),
    _Column("Reason", fmt.reason_label, justify="left", wide_only=True, overflow="fold"),
)


def _totals(result: ExecutionResult) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    tca = result.tca
    grid.add_row(
        "Items",
        f"{result.items_filled} of {len(result.items)} filled; "
        f"{result.orders_submitted} orders submitted",
    )
    grid.add_row(
        "Notional",
        f"planned {fmt.money(result.planned_notional)}, "
        f"filled {fmt.money(result.filled_notional)} "
        f"(fill rate {fmt.percent(fmt.fill_rate(result))})",
    )
    grid.add_row(
        "Slippage",
        f"{fmt.bps(tca.slippage_bps if tca else None)} bps notional-weighted (positive = cost)",
    )
    if tca is not None:
        grid.add_row(
            "Broker API",
            f"{tca.requests_total} requests, {fmt.qty(tca.requests_per_order)} per order, "
            f"peak {tca.peak_requests_per_min}/min; wall {fmt.seconds(tca.wall_s)}",
        )
    if result.budget is not None:
        b = result.budget
        grid.add_row(
            "Time budget",
            f"{fmt.seconds(b.remaining_at_start_s)} at start, reserve {fmt.seconds(b.reserve_s)}; "
            f"preflight {fmt.seconds(b.preflight_s)}, sells {fmt.seconds(b.sells_s)}, "
            f"buys {fmt.seconds(b.buys_s)}, wind-down {fmt.seconds(b.wind_down_s)}, "
            f"total {fmt.seconds(b.total_s)}",
        )
    return grid
