"""Sweep grids: candidates are SmartSchedule overrides (+ optional settings env)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from rebalance_executor.bench.sweep import load_grid
from rebalance_executor.domain.config import SmartSchedule


def _grid(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(content))
    return path


def test_candidates_override_the_defaults_and_carry_their_env(tmp_path: Path) -> None:
    path = _grid(
        tmp_path,
        [
            {"label": "base"},
            {"start_aggressiveness": "0.1", "repeg_interval_s": 20, "env": {"POLL_INTERVAL_S": 2}},
        ],
    )
    base, tuned = load_grid(path)
    assert base.label == "base"
    assert base.schedule == SmartSchedule()
    assert tuned.label == "c1"
    assert tuned.schedule.start_aggressiveness == Decimal("0.1")
    assert tuned.schedule.repeg_interval_s == 20
    assert tuned.schedule.max_repegs == SmartSchedule().max_repegs
    assert tuned.env == (("POLL_INTERVAL_S", "2"),)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"label": "x"}, "JSON list of objects"),
        ([{"label": "bad", "start_aggressiveness": "1.5"}], "candidate bad"),
        ([{"label": "typo", "repeg_secs": 5}], "candidate typo"),
        ([{"label": "env", "env": ["POLL_INTERVAL_S"]}], "env must be an object"),
    ],
)
def test_invalid_grids_raise_value_error_naming_the_candidate(
    tmp_path: Path, content: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        load_grid(_grid(tmp_path, content))


def test_an_unreadable_grid_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_grid(tmp_path / "missing.json")
