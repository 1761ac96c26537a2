"""The HTML report is one self-contained page with a decodable chart per traded item."""

from __future__ import annotations

import base64
import io
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from rebalance_executor.domain.broker import Quote
from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ItemOutcome,
    QuotePoint,
)
from rebalance_executor.reporting.charts import item_chart_png, quote_samples
from rebalance_executor.reporting.html import render_html, write_html
from tests.unit.reporting.factory import T0, TRADED_SYMBOLS, at, sample_result

PNG_PREFIX = "data:image/png;base64,"


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(values)
        if tag in {"script", "link"} or (tag == "img" and not values["src"].startswith("data:")):
            self.external.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(page)
    parser.close()
    return parser


def _decode_png(src: str) -> Image.Image:
    assert src.startswith(PNG_PREFIX)
    image = Image.open(io.BytesIO(base64.b64decode(src.removeprefix(PNG_PREFIX), validate=True)))
    image.load()
    return image


def test_page_embeds_one_png_chart_per_traded_item(tmp_path: Path) -> None:
    path = write_html(sample_result(), tmp_path / "out" / "report.html")
    page = _parse(path.read_text(encoding="utf-8"))
    assert [img["alt"].split()[0] for img in page.images] == list(TRADED_SYMBOLS)
    for img in page.images:
        image = _decode_png(img["src"])
        assert image.format == "PNG"
        assert image.size == (800, 340)
    assert page.external == []


def test_page_lists_every_item_with_reasons_and_totals() -> None:
    text = " ".join(_parse(render_html(sample_result())).text)
    for expected in (
        "plan-2026-11-25-close",
        "PARTIAL",
        "GLD",
        "PENNY",
        "BND",
        "DEADLINE: stop point reached",
        "COLLAR: ask 521.10",
        "NO_VALID_QUOTE",
        "$26,220.20",
        "$19,911.24",
        "84.1%",
        "+0.9",
        "a1b2c3-0-1",
        "91.148",
    ):
        assert expected in text, expected


def test_result_text_is_escaped() -> None:
    hostile = ExecutionResult(
        plan_id="p-1",
        status=ExecutionStatus.REJECTED,
        reason="<script>alert(1)</script>",
        started_at=T0,
        finished_at=T0,
    )
    page = render_html(hostile)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert _parse(page).images == []


def test_write_html_reports_unwritable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError, match="file"):
        write_html(sample_result(), blocker / "report.html")


def test_chart_uses_quote_path_when_present() -> None:
    base = sample_result().items[1]
    path = tuple(
        Quote(
            symbol="SPY",
            bid=Decimal("601.05") + i,
            ask=Decimal("601.25") + i,
            timestamp=at(20 + 5 * i),
        )
        for i in range(4)
    )
    points = tuple(QuotePoint(at=q.timestamp, bid=q.bid, ask=q.ask, mid=q.mid) for q in path)
    item = base.model_copy(update={"quote_path": points})
    samples = quote_samples(item)
    # Four path points plus the arrival quote, oldest first.
    assert len(samples) == 5
    assert [s.at for s in samples] == sorted(s.at for s in samples)
    assert samples[-1].bid == Decimal("604.05")
    assert samples[-1].mid == Decimal("604.15")
    assert item_chart_png(item) != item_chart_png(base)


def test_chart_renders_market_order_without_limits_or_times() -> None:
    base = sample_result().items[0]
    bare = base.model_copy(
        update={
            "arrival_quote": None,
            "started_at": None,
            "orders": tuple(
                o.model_copy(update={"limit_prices": (), "submitted_at": None, "updated_at": None})
                for o in base.orders
            ),
        }
    )
    assert quote_samples(bare) == []
    assert _decode_png(PNG_PREFIX + base64.b64encode(item_chart_png(bare)).decode()).size == (
        800,
        340,
    )


def test_dry_run_page_has_no_charts() -> None:
    items = tuple(
        i.model_copy(update={"outcome": ItemOutcome.DRY_RUN, "orders": (), "orders_count": 0})
        for i in sample_result().items
    )
    result = sample_result().model_copy(
        update={"status": ExecutionStatus.DRY_RUN, "dry_run": True, "items": items}
    )
    page = _parse(render_html(result))
    assert page.images == []
    assert "DRY_RUN" in " ".join(page.text)
