"""Per-item price chart (PNG): quote path, arrival, limit prices over time, and fills.

Uses matplotlib's object API on the Agg canvas (no pyplot global state, no display needed), so
it is safe in worker threads and headless CI. Prices are ``Decimal`` in the result; they become
floats here only because plotting is the display boundary.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure

from rebalance_executor.domain.result import ItemResult, OrderRecord, QuotePoint

_FIGSIZE = (8.0, 3.4)
_DPI = 100


def is_traded(item: ItemResult) -> bool:
    """An item gets a chart when at least one order was sent for it."""
    return bool(item.orders)


def quote_samples(item: ItemResult) -> list[QuotePoint]:
    """The item's quote path (one point per poll tick while it was worked) plus its arrival
    quote when it was two-sided (a one-sided quote has no mid), oldest first. Empty for items
    never quoted (e.g. market policy without polling)."""
    points = list(item.quote_path)
    if item.arrival_quote is not None and item.arrival_quote.is_two_sided:
        q = item.arrival_quote
        points.append(
            QuotePoint(at=item.started_at or q.timestamp, bid=q.bid, ask=q.ask, mid=q.mid)
        )
    return sorted(points, key=lambda p: p.at)


def item_chart_png(item: ItemResult) -> bytes:
    """Render the item's chart as PNG bytes. Works with sparse data (no quote path, market
    orders without limit prices); raises only on matplotlib/IO failures (``OSError``)."""
    fig = Figure(figsize=_FIGSIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _plot_quotes(ax, quote_samples(item))
    _plot_limits(ax, item.orders)
    _plot_fills(ax, item.orders)
    if item.arrival_mid is not None:
        ax.axhline(
            float(item.arrival_mid), color="grey", linestyle="--", linewidth=1, label="arrival mid"
        )
    ax.set_title(f"{item.symbol} {item.action.value} — {item.outcome.value}", fontsize=10)
    ax.set_ylabel("price ($)")
    ax.set_xlabel("time (UTC)")
    # matplotlib.dates has no annotations for these constructors (mypy --strict).
    ax.xaxis.set_major_locator(AutoDateLocator(maxticks=8))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M:%S"))  # type: ignore[no-untyped-call]
    ax.grid(visible=True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _plot_quotes(ax: Axes, samples: Sequence[QuotePoint]) -> None:
    for side, color in (("bid", "tab:green"), ("ask", "tab:red")):
        xs = [s.at for s in samples]
        ys = [float(s.bid if side == "bid" else s.ask) for s in samples]
        if xs:
            ax.step(
                xs,
                ys,
                where="post",
                color=color,
                linewidth=1,
                alpha=0.8,
                label=side,
                marker="." if len(xs) == 1 else None,
            )


def _plot_limits(ax: Axes, orders: Sequence[OrderRecord]) -> None:
    labelled = False
    for order in orders:
        points = sorted(order.limit_prices, key=lambda p: p.at)
        if not points:
            continue
        xs = [p.at for p in points]
        ys = [float(p.price) for p in points]
        end = order.updated_at
        if end is not None and end > xs[-1]:
            # Hold the last limit until the order ended so the working period is visible.
            xs.append(end)
            ys.append(ys[-1])
        ax.step(
            xs,
            ys,
            where="post",
            color="tab:blue",
            linewidth=1.5,
            marker="o",
            markersize=3,
            label="_nolegend_" if labelled else "limit price",
        )
        labelled = True


def _plot_fills(ax: Axes, orders: Sequence[OrderRecord]) -> None:
    xs: list[datetime] = []
    ys: list[float] = []
    sizes: list[float] = []
    for order in orders:
        at = order.updated_at or order.submitted_at
        if order.filled_qty > 0 and order.filled_avg_price is not None and at is not None:
            xs.append(at)
            ys.append(float(order.filled_avg_price))
            sizes.append(30.0 + min(float(order.filled_qty), 200.0))
    if xs:
        ax.scatter(
            xs, ys, s=sizes, color="black", marker="X", zorder=5, label="fill (avg per order)"
        )
