"""Event files for the CLI: loading and re-stamping both event shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rebalance_executor.cli.events_io import EventFileError, load_event, restamp
from rebalance_executor.cli.main import main
from rebalance_executor.events import parse_event

EVENTS = Path(__file__).resolve().parents[3] / "events"
NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize("name", ["rebalance_planned.json", "rebalance_planned_nested.json"])
def test_restamp_sets_plan_timestamp_and_keeps_the_original(name: str) -> None:
    original = load_event(EVENTS / name)
    fresh = restamp(original, NOW)
    assert parse_event(fresh).plan.timestamp == NOW
    assert fresh["time"] == "2026-03-02T15:30:00Z"
    assert parse_event(original).plan.timestamp != NOW


def test_restamp_bare_plan() -> None:
    bare = load_event(EVENTS / "rebalance_planned.json")["detail"]
    assert parse_event(restamp(bare, NOW)).plan.timestamp == NOW


def test_load_event_rejects_non_objects(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[1]", encoding="utf-8")
    (tmp_path / "b.json").write_text("{", encoding="utf-8")
    with pytest.raises(EventFileError, match="must be a JSON object"):
        load_event(tmp_path / "a.json")
    with pytest.raises(EventFileError, match="cannot read"):
        load_event(tmp_path / "b.json")
    with pytest.raises(EventFileError, match="cannot read"):
        load_event(tmp_path / "missing.json")


def test_restamp_command_writes_a_fresh_copy(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "event.json"
    before = datetime.now(UTC)
    assert main(["restamp", str(EVENTS / "rebalance_planned.json"), "--out", str(out)]) == 0
    stamped = parse_event(load_event(out)).plan.timestamp
    assert before <= stamped <= datetime.now(UTC)
    assert main(["restamp", str(tmp_path / "missing.json")]) == 2
