"""``rebalance-executor report`` end to end through its argparse registration."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from rebalance_executor.cli import report
from tests.unit.reporting.factory import sample_result


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rebalance-executor")
    report.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def _result_file(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(sample_result().model_dump(mode="json")))
    return path


def test_report_prints_table_and_writes_html(tmp_path: Path) -> None:
    console = Console(file=io.StringIO(), record=True, width=220, color_system=None)
    html = tmp_path / "report.html"
    args = _parse(["report", str(_result_file(tmp_path)), "--html", str(html)])
    assert args.func(args, console) == report.EXIT_OK
    text = console.export_text()
    assert "plan-2026-11-25-close" in text
    assert "NVDA" in text
    assert f"HTML report: {html.resolve()}" in text
    assert html.read_text(encoding="utf-8").count("data:image/png;base64,") == 4


def test_report_on_bad_file_exits_2_with_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    assert report.main(["report", str(bad)]) == report.EXIT_BAD_INPUT
    assert "is not JSON" in capsys.readouterr().err


def test_report_html_write_failure_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    code = report.main(["report", str(_result_file(tmp_path)), "--html", str(blocker / "r.html")])
    assert code == report.EXIT_WRITE_FAILED
    captured = capsys.readouterr()
    assert "cannot write" in captured.err
    assert "plan-2026-11-25-close" in captured.out
