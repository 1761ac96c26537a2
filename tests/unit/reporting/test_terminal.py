"""The terminal report shows what an operator needs, for every item outcome."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ItemOutcome,
    ItemReference,
    ReferenceSource,
)
from rebalance_executor.reporting.terminal import ResultLoadError, load_result, print_result
from tests.unit.reporting.factory import T0, sample_result


def _render(result: ExecutionResult, width: int = 220) -> str:
    console = Console(
        file=io.StringIO(), record=True, width=width, force_terminal=False, color_system=None
    )
    print_result(result, console)
    return console.export_text()


def _row(text: str, symbol: str) -> str:
    rows = [line for line in text.splitlines() if re.search(rf"(^|\s){symbol}\s", line)]
    assert len(rows) == 1, f"expected one table row for {symbol}: {rows}"
    return rows[0]


def test_header_shows_plan_status_reason_and_policy() -> None:
    text = _render(sample_result())
    assert "plan-2026-11-25-close" in text
    assert "PARTIAL" in text
    assert "2 of 6 orderable items did not complete" in text
    assert "Policy: smart" in text
    assert "corr-42" in text


def test_filled_sell_row_shows_planned_filled_prices_and_slippage() -> None:
    row = _row(_render(sample_result()), "TLT")
    for expected in (
        "sell",
        "$9,115.00",
        "$9,114.80",
        "100 / 100",
        "91.148",
        "91.15",
        "+0.2",
        "FILLED",
        "2 (1 repl)",
    ):
        assert expected in row, (expected, row)


def test_fractional_quantities_keep_nine_decimals() -> None:
    row = _row(_render(sample_result()), "SPY")
    assert "12.345678901 / 12.345678901" in row
    assert "601.18" in row
    assert "+0.5" in row


def test_unfinished_items_carry_outcome_and_reason() -> None:
    text = _render(sample_result())
    nvda = _row(text, "NVDA")
    assert "PARTIAL" in nvda
    assert "30 / 18" in nvda
    assert "DEADLINE: stop point reached" in nvda
    qqq = _row(text, "QQQ")
    assert "NOT_FILLED" in qqq
    assert "COLLAR" in qqq
    assert "BELOW_MIN_NOTIONAL" in _row(text, "PENNY")
    assert "NO_VALID_QUOTE" in _row(text, "BND")
    gld = _row(text, "GLD")
    assert "hold" in gld
    assert "HOLD" in gld


def test_80_column_terminal_truncates_nothing_and_lists_reasons() -> None:
    text = _render(sample_result(), width=80)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    table, reasons = text.split("Not done", 1)
    for expected in ("$9,115.00", "$9,114.80", "91.148", "+0.2", "NOT_FILLED", "NOT_TRADED"):
        assert expected in table, expected
    assert "DEADLINE" not in table
    nvda = _row(reasons, "NVDA")
    assert "PARTIAL" in nvda
    assert "DEADLINE: stop point reached with 12 shares open" in nvda
    assert "COLLAR: ask 521.10 is 170 bps above arrival (max 150)" in _row(reasons, "QQQ")
    assert "TLT" not in reasons.split("Items")[0]


def test_totals_show_plan_level_tca_and_budget() -> None:
    text = _render(sample_result())
    assert "2 of 7 filled; 5 orders submitted" in text
    assert "planned $26,220.20" in text
    assert "filled $19,911.24" in text
    assert "fill rate 84.1%" in text
    assert "+0.9 bps" in text
    assert "41 requests, 3.4 per order, peak 38/min" in text
    assert "90.0s at start" in text


def test_rejected_result_without_items_or_tca_renders() -> None:
    rejected = ExecutionResult(
        plan_id="bad-1",
        status=ExecutionStatus.REJECTED,
        reason="items[0].symbol: must match ^[A-Z][A-Z0-9.]{0,9}$",
        started_at=T0,
        finished_at=T0,
    )
    text = _render(rejected)
    assert "REJECTED" in text
    assert "items[0].symbol: must match" in text
    assert "No items were executed." in text
    assert "0 of 0 filled" in text


def test_load_result_reads_bare_document(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(sample_result().model_dump(mode="json")))
    assert load_result(path) == sample_result()


def test_load_result_unwraps_attempt_record_and_ignores_extra_keys(tmp_path: Path) -> None:
    document = sample_result().model_dump(mode="json")
    attempt = {
        "attempt": 2,
        "aws_request_id": "r-1",
        "summary": {"plan_id": "x"},
        "result": document,
    }
    path = tmp_path / "2.json"
    path.write_text(json.dumps(attempt))
    assert load_result(path) == sample_result()
    path.write_text(json.dumps({**document, "written_by": "v9"}))
    assert load_result(path).plan_id == "plan-2026-11-25-close"


def test_load_result_points_summary_users_at_result_uri(tmp_path: Path) -> None:
    summary = {
        "plan_id": "p",
        "status": "SUCCEEDED",
        "items_total": 1,
        "orders_submitted": 1,
        "result_uri": "s3://bucket/executions/date=2026-11-25/plan_id=p/result.json",
    }
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary))
    with pytest.raises(ResultLoadError, match=r"summary.*s3://bucket/executions"):
        load_result(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"hello": "world"}', "no execution result found"),
        (
            '{"plan_id": "p", "status": "MAYBE", "started_at": "2026-11-25T20:45:00Z",'
            ' "finished_at": "2026-11-25T20:45:00Z"}',
            "not a valid execution result",
        ),
    ],
)
def test_load_result_rejects_bad_documents(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(ResultLoadError, match=message):
        load_result(path)


def test_load_result_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ResultLoadError, match="cannot read"):
        load_result(tmp_path / "absent.json")


@pytest.mark.parametrize("status", list(ExecutionStatus))
def test_every_status_renders(status: ExecutionStatus) -> None:
    result = sample_result().model_copy(update={"status": status})
    assert f"plan-2026-11-25-close  {status.value}" in _render(result)


@pytest.mark.parametrize("outcome", list(ItemOutcome))
def test_every_item_outcome_renders(outcome: ItemOutcome) -> None:
    item = sample_result().items[0].model_copy(update={"outcome": outcome})
    result = sample_result().model_copy(update={"items": (item,)})
    assert outcome.value in _row(_render(result, width=80), "TLT")


def test_dry_run_result_shows_intended_quantities() -> None:
    items = tuple(
        i.model_copy(
            update={
                "outcome": ItemOutcome.DRY_RUN,
                "orders": (),
                "orders_count": 0,
                "replaces_count": 0,
                "filled_qty": Decimal(0),
                "filled_notional": Decimal(0),
                "avg_fill_price": None,
                "slippage_bps": None,
                "reason": None,
                "reason_detail": None,
            }
        )
        for i in sample_result().items[:3]
    )
    result = sample_result().model_copy(
        update={"status": ExecutionStatus.DRY_RUN, "dry_run": True, "items": items, "reason": None}
    )
    text = _render(result)
    assert "Dry run: yes" in text
    assert "30 / 0" in _row(text, "NVDA")
    assert "DRY_RUN" in _row(text, "NVDA")
    assert "0 of 3 filled; 0 orders submitted" in text


def test_trade_reference_is_marked_in_the_arrival_column() -> None:
    result = sample_result()
    traded = result.items[0]
    marked = traded.model_copy(
        update={
            "reference": ItemReference(
                source=ReferenceSource.TRADE, price=traded.arrival_mid, at=T0
            )
        }
    )
    text = _render(result.model_copy(update={"items": (marked, *result.items[1:])}))
    assert "(trade)" in _row(text, traded.symbol)
    assert "(trade)" not in _row(_render(result), traded.symbol)
