"""Self-contained HTML report: the terminal report's content plus one chart per traded item.

Charts are embedded as base64 PNG ``data:`` URIs so the page is one file that can be mailed or
attached to a ticket; nothing is fetched when it is opened. All text from the result is escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from html import escape
from pathlib import Path

from rebalance_executor.domain.result import ExecutionResult, ItemResult, OrderRecord
from rebalance_executor.reporting import format as fmt
from rebalance_executor.reporting.charts import is_traded, item_chart_png

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
.status{padding:.1rem .5rem;border-radius:.3rem;color:#fff}
.SUCCEEDED{background:#2e7d32}.PARTIAL{background:#f9a825}.FAILED,.REJECTED{background:#c62828}
.SKIPPED{background:#1565c0}.DRY_RUN{background:#00838f}
img{max-width:100%;border:1px solid #ddd}
"""

_ITEM_HEADERS = (
    "#",
    "Symbol",
    "Side",
    "Planned",
    "Filled",
    "Qty plan",
    "Qty filled",
    "Avg price",
    "Arrival mid",
    "Slip bps",
    "Orders",
    "Replaces",
    "Outcome",
    "Reason",
)
_ORDER_HEADERS = (
    "Client order id",
    "Broker id",
    "Type",
    "Qty",
    "Limit prices",
    "Status",
    "Filled",
    "Avg price",
    "Submitted",
    "Updated",
)


def write_html(result: ExecutionResult, path: str | Path) -> Path:
    """Write the report page to ``path`` (parent directories created) and return the path.

    Raises ``OSError`` when the file cannot be written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(result), encoding="utf-8")
    return target


def render_html(result: ExecutionResult) -> str:
    """The complete page as a string."""
    status = escape(result.status.value)
    body = [
        f'<h1>Plan {escape(result.plan_id)} <span class="status {status}">{status}</span></h1>',
    ]
    if result.reason:
        body.append(f"<p><strong>Reason:</strong> {escape(result.reason)}</p>")
    body.append(_summary_table(result))
    body.append("<h2>Items</h2>")
    body.append(_table(_ITEM_HEADERS, (_item_row(i) for i in result.items), left={1, 2, 12, 13}))
    for item in result.items:
        if is_traded(item):
            body.append(_item_section(item))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Rebalance {escape(result.plan_id)} — {status}</title>"
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _summary_table(result: ExecutionResult) -> str:
    tca = result.tca
    rows = [
        ("Started", fmt.timestamp(result.started_at)),
        ("Finished", fmt.timestamp(result.finished_at)),
        ("Policy", tca.policy if tca else fmt.DASH),
        ("Dry run", "yes" if result.dry_run else "no"),
        ("Items filled", f"{result.items_filled} of {len(result.items)}"),
        ("Orders submitted", str(result.orders_submitted)),
        ("Planned notional", fmt.money(result.planned_notional)),
        ("Filled notional", fmt.money(result.filled_notional)),
        ("Fill rate", fmt.percent(fmt.fill_rate(result))),
        ("Slippage (bps, notional-weighted)", fmt.bps(tca.slippage_bps if tca else None)),
    ]
    if tca is not None:
        rows.append(
            (
                "Broker API requests",
                f"{tca.requests_total} "
                f"({fmt.qty(tca.requests_per_order)}/order, "
                f"peak {tca.peak_requests_per_min}/min)",
            )
        )
    if result.budget is not None:
        rows.append(
            (
                "Time budget",
                f"{fmt.seconds(result.budget.remaining_at_start_s)} at start, "
                f"used {fmt.seconds(result.budget.total_s)}",
            )
        )
    cells = "".join(
        f'<tr><th class="l">{escape(k)}</th><td class="l">{escape(v)}</td></tr>' for k, v in rows
    )
    return f'<table class="summary">{cells}</table>'


def _item_row(item: ItemResult) -> list[str]:
    return [
        str(item.index),
        item.symbol,
        fmt.side_label(item),
        fmt.money(abs(item.planned_notional)),
        fmt.money(item.filled_notional),
        fmt.qty(item.planned_qty),
        fmt.qty(item.filled_qty),
        fmt.avg_price(item.avg_fill_price),
        fmt.price(item.arrival_mid),
        fmt.bps(item.slippage_bps),
        str(item.orders_count),
        str(item.replaces_count),
        item.outcome.value,
        fmt.reason_label(item),
    ]


def _order_row(order: OrderRecord) -> list[str]:
    limits = ", ".join(fmt.price(p.price) for p in order.limit_prices) or fmt.DASH
    return [
        order.client_order_id,
        order.broker_order_id,
        order.type.value,
        fmt.qty(order.qty),
        limits,
        order.status.value,
        fmt.qty(order.filled_qty),
        fmt.avg_price(order.filled_avg_price),
        fmt.timestamp(order.submitted_at),
        fmt.timestamp(order.updated_at),
    ]


def _item_section(item: ItemResult) -> str:
    png = base64.b64encode(item_chart_png(item)).decode("ascii")
    symbol = escape(item.symbol)
    return (
        f'<section class="item" id="item-{item.index}"><h2>{item.index}. {symbol} '
        f"{escape(fmt.side_label(item))} — {escape(item.outcome.value)}</h2>"
        f'<img class="chart" alt="{symbol} quotes, limit prices and fills over time" '
        f'src="data:image/png;base64,{png}">'
        + _table(_ORDER_HEADERS, (_order_row(o) for o in item.orders), left={0, 1, 2, 5})
        + "</section>"
    )


def _table(headers: Iterable[str], rows: Iterable[list[str]], left: set[int]) -> str:
    def cls(i: int) -> str:
        return ' class="l"' if i in left else ""

    head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{escape(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
