"""The terminal report of one execution (SPEC §3.5): a header, an item table, the plan's totals.

Designed for the operator reading it at 15:46: status and reason first, then per item the side,
planned vs filled, average price vs arrival, slippage, and why anything was not done.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ItemOutcome,
    ItemResult,
)
from rebalance_executor.reporting import format as fmt
from rebalance_executor.reporting.loading import ResultLoadError, load_result

__all__ = ["ResultLoadError", "build_report", "load_result", "print_result"]

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
    ItemOutcome.PARTIAL: "yellow",
    ItemOutcome.NOT_FILLED: "red",
    ItemOutcome.NOT_TRADED: "magenta",
    ItemOutcome.HOLD: "dim",
    ItemOutcome.DRY_RUN: "cyan",
}


def print_result(document: ExecutionResult, console: Console) -> None:
    """Print the full report of ``document`` to ``console``. Never raises for a valid result."""
    console.print(build_report(document))


def build_report(result: ExecutionResult) -> Group:
    """The report as a rich renderable (header panel, item table, totals)."""
    parts: list[Panel | Table | Text] = [_header(result)]
    if result.items:
        parts.append(_items_table(result))
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


def _items_table(result: ExecutionResult) -> Table:
    table = Table(title="Items", title_justify="left", header_style="bold", expand=False)
    table.add_column("#", justify="right")
    table.add_column("Symbol")
    table.add_column("Side")
    table.add_column("Planned", justify="right")
    table.add_column("Filled", justify="right")
    table.add_column("Qty plan/fill", justify="right")
    table.add_column("Avg price", justify="right")
    table.add_column("Arrival", justify="right")
    table.add_column("Slip bps", justify="right")
    table.add_column("Orders", justify="right")
    table.add_column("Outcome")
    table.add_column("Reason", overflow="fold")
    for item in result.items:
        table.add_row(*_item_cells(item))
    return table


def _item_cells(item: ItemResult) -> list[str | Text]:
    return [
        str(item.index),
        item.symbol,
        fmt.side_label(item),
        fmt.money(abs(item.planned_notional)),
        fmt.money(item.filled_notional),
        f"{fmt.qty(item.planned_qty)} / {fmt.qty(item.filled_qty)}",
        fmt.avg_price(item.avg_fill_price),
        fmt.price(item.arrival_mid),
        fmt.bps(item.slippage_bps),
        f"{item.orders_count} ({item.replaces_count} repl)" if item.orders_count else "0",
        Text(item.outcome.value, style=OUTCOME_STYLE[item.outcome]),
        fmt.reason_label(item),
    ]


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
