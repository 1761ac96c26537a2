"""The live progress sink counts items and outcomes per run."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from rebalance_executor.domain.result import ItemOutcome
from rebalance_executor.reporting.progress import (
    NullProgress,
    ProgressError,
    ProgressSink,
    RichProgress,
    progress_for,
)


def _console() -> Console:
    return Console(file=io.StringIO(), record=True, width=160, force_terminal=False)


def test_rich_progress_shows_items_done_and_outcomes() -> None:
    console = _console()
    with RichProgress(console) as progress:
        progress.start(3, label="plan-1")
        progress.item_done("SPY", ItemOutcome.FILLED)
        progress.item_done("TLT", ItemOutcome.FILLED)
        progress.item_done("NVDA", ItemOutcome.PARTIAL)
    text = console.export_text()
    assert "plan-1" in text
    assert "3/3" in text
    assert "FILLED 2" in text
    assert "PARTIAL 1" in text
    assert "last: NVDA" in text


def test_each_bench_run_gets_its_own_bar() -> None:
    console = _console()
    progress = RichProgress(console)
    progress.start(2, label="smart seed 1")
    progress.item_done("SPY", ItemOutcome.FILLED)
    progress.start(2, label="market seed 1")
    progress.item_done("SPY", ItemOutcome.NOT_FILLED)
    progress.item_done("QQQ", ItemOutcome.FILLED)
    progress.close()
    progress.close()  # idempotent
    lines = console.export_text().splitlines()
    smart = next(line for line in lines if "smart seed 1" in line)
    market = next(line for line in lines if "market seed 1" in line)
    assert "1/2" in smart
    assert "2/2" in market
    assert "NOT_FILLED 1" in market


def test_item_done_before_start_is_a_wiring_error() -> None:
    progress = RichProgress(_console())
    with pytest.raises(ProgressError, match="before start"):
        progress.item_done("SPY", ItemOutcome.FILLED)


def test_negative_total_is_rejected() -> None:
    with pytest.raises(ValueError, match="total_items"):
        RichProgress(_console()).start(-1)


def test_null_progress_satisfies_protocol() -> None:
    sinks: list[ProgressSink] = [NullProgress(), RichProgress(_console())]
    for sink in sinks:
        sink.start(1)
        sink.item_done("SPY", ItemOutcome.HOLD)
        sink.close()


def test_progress_for_shows_a_bar_only_on_a_terminal() -> None:
    piped = Console(file=io.StringIO(), force_terminal=False)
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert isinstance(progress_for(piped), NullProgress)
    assert isinstance(progress_for(terminal), RichProgress)
