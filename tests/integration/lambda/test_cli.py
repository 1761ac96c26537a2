"""The CLI (SPEC §3.5): invoke, replay (file and stored result), run smoke test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rebalance_executor.cli.events_io import EXIT_BAD_INPUT, EXIT_HANDLER_RAISED, EXIT_OK
from rebalance_executor.cli.main import main

from .conftest import EVENTS, LambdaRig


def _write_event(rig: LambdaRig, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rig.event(name)), encoding="utf-8")
    return path


def _stdout_json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # exactly one JSON document on stdout
    loaded = json.loads(out)
    assert isinstance(loaded, dict)
    return loaded


def test_invoke_prints_the_response_and_replay_sends_nothing(
    rig: LambdaRig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event_file = _write_event(rig, tmp_path, "rebalance_planned.json")
    assert main(["invoke", str(event_file), "--timeout-s", "60"]) == EXIT_OK
    summary = _stdout_json(capsys)
    assert summary["status"] == "SUCCEEDED"
    posts = rig.order_posts()

    assert main(["replay", "--result", str(summary["result_uri"])]) == EXIT_OK
    assert _stdout_json(capsys) == summary
    assert main(["replay", "--event", str(event_file)]) == EXIT_OK
    assert _stdout_json(capsys) == summary
    assert rig.order_posts() == posts


def test_invoke_invalid_event_returns_rejected_with_exit_0(
    rig: LambdaRig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", str(EVENTS / "rebalance_planned_invalid.json")]) == EXIT_OK
    assert _stdout_json(capsys)["status"] == "REJECTED"


def test_invoke_exit_1_when_the_handler_raises(
    rig: LambdaRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESULTS_BUCKET", "bucket-that-does-not-exist")
    rig.rebuild()
    event_file = _write_event(rig, tmp_path, "rebalance_planned.json")
    assert main(["invoke", str(event_file)]) == EXIT_HANDLER_RAISED


def test_invoke_and_replay_exit_2_for_unreadable_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", str(tmp_path / "missing.json")]) == EXIT_BAD_INPUT
    (tmp_path / "list.json").write_text("[]", encoding="utf-8")
    assert main(["replay", "--event", str(tmp_path / "list.json")]) == EXIT_BAD_INPUT
    assert main(["replay", "--result", "not-an-s3-uri"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().out == ""


def test_run_smoke_prints_a_report_of_a_real_execution(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["run", "--event", str(EVENTS / "rebalance_planned.json"), "--time-scale", "20"])
    assert code == EXIT_OK
    out = capsys.readouterr().out
    assert "sample-plan-2026-0001" in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "SUCCEEDED"
    assert summary["orders_submitted"] >= 3
