"""Shipped scenario files: valid, reproducible from the generator, and their plans pass the
handler's own event parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rebalance_executor.bench import generate
from rebalance_executor.bench.scenario import (
    SHIPPED,
    BenchScenario,
    ScenarioError,
    ScenarioKind,
    plan_event,
    shipped_paths,
)
from rebalance_executor.events import parse_any_event

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = ROOT / "scenarios"


@pytest.mark.parametrize("path", shipped_paths(SCENARIOS), ids=lambda p: p.stem)
def test_every_shipped_scenario_loads_and_its_plan_is_a_valid_event(path: Path) -> None:
    scenario = BenchScenario.load(path)
    event = plan_event(scenario, f"bench-{scenario.name}", datetime.now(UTC))
    parsed = parse_any_event(event)
    assert len(parsed.plan.items) == scenario.item_count  # type: ignore[union-attr]


def test_the_scale_set_has_10_50_and_200_items() -> None:
    scale = [BenchScenario.load(p) for p in shipped_paths(SCENARIOS)]
    sizes = sorted(s.item_count for s in scale if s.kind is ScenarioKind.SCALE)
    assert sizes == [10, 50, 200]


def test_the_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    generate.main([str(tmp_path)])
    for stem in SHIPPED:
        assert (tmp_path / f"{stem}.json").read_text() == (SCENARIOS / f"{stem}.json").read_text()


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(document))
    return path


def test_a_plan_symbol_missing_from_the_market_is_rejected_with_the_file_name(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        {
            "symbols": {"AAA": {"price": "10"}},
            "plan": {"items": [{"symbol": "BBB", "action": "BUY", "trade_amount": "100"}]},
        },
    )
    with pytest.raises(ScenarioError, match=r"(?s)s\.json.*BBB"):
        BenchScenario.load(path)


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"symbols": {"AAA": {"price": "-1"}}, "plan": []},
        {"symbols": {"AAA": {"price": "10"}}},
        {
            "symbols": {"AAA": {"price": "10"}},
            "budget_s": 5,
            "plan": [{"symbol": "AAA", "action": "BUY", "trade_amount": "1"}],
        },
    ],
    ids=["not-an-object", "bad-market", "no-plan", "budget-too-small"],
)
def test_invalid_scenarios_raise_scenario_error(tmp_path: Path, document: object) -> None:
    with pytest.raises(ScenarioError):
        BenchScenario.load(_write(tmp_path, document))


def test_an_unreadable_file_raises_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        BenchScenario.load(tmp_path / "missing.json")
