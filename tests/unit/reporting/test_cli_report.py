"""``rebalance-executor report`` end to end through its argparse registration."""

from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from rebalance_executor.cli import report
from rebalance_executor.cli.local_aws import LocalResources
from tests.unit.reporting.factory import sample_result, store_sample


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


def test_report_reads_an_s3_uri(
    aws_env: LocalResources, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = store_sample(os.environ["RESULTS_BUCKET"]).result_uri
    assert report.main(["report", uri]) == report.EXIT_OK
    out = capsys.readouterr().out
    assert "plan-2026-11-25-close" in out
    assert "NVDA" in out


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("s3://{bucket}/executions/missing/result.json", "cannot read s3://"),
        ("s3://{bucket}", "not an s3://bucket/key URI"),
    ],
)
def test_report_on_bad_s3_uri_exits_2(
    aws_env: LocalResources, capsys: pytest.CaptureFixture[str], uri: str, message: str
) -> None:
    bucket = os.environ["RESULTS_BUCKET"]
    assert report.main(["report", uri.format(bucket=bucket)]) == report.EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


def test_report_response_prints_the_stored_result(aws_env: LocalResources) -> None:
    uri = store_sample(os.environ["RESULTS_BUCKET"]).result_uri
    console = Console(file=io.StringIO(), record=True, width=100, color_system=None)
    assert report.report_response({"status": "PARTIAL", "result_uri": uri}, console)
    assert "plan-2026-11-25-close" in console.export_text()


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ({"status": "SKIPPED", "result_uri": None}, "no result_uri"),
        ({"result_uri": "s3://{bucket}/executions/none/result.json"}, "cannot report s3://"),
    ],
)
def test_report_response_failures_are_reported_not_raised(
    aws_env: LocalResources,
    capsys: pytest.CaptureFixture[str],
    response: dict[str, str | None],
    message: str,
) -> None:
    bucket = os.environ["RESULTS_BUCKET"]
    resolved = {k: v.format(bucket=bucket) if v else v for k, v in response.items()}
    console = Console(file=io.StringIO(), record=True)
    assert not report.report_response(resolved, console)
    assert message in capsys.readouterr().err
    assert console.export_text() == ""
