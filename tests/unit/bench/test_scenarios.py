"""Shipped scenario files: valid, reproducible from the generator, and their plans pass the
handler's own event parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
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
        {"symbols": {"AAA": {"price": "10", "tradable": False}}},
        {
            "symbols": {"AAA": {"price": "10"}},
            "budget_s": 5,
            "plan": [{"symbol": "AAA", "action": "BUY", "trade_amount": "1"}],
        },
    ],
    ids=["not-an-object", "bad-market", "no-plan-nothing-tradable", "budget-too-small"],
)
def test_invalid_scenarios_raise_scenario_error(tmp_path: Path, document: object) -> None:
    with pytest.raises(ScenarioError):
        BenchScenario.load(_write(tmp_path, document))


def test_an_unreadable_file_raises_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        BenchScenario.load(tmp_path / "missing.json")


def test_a_file_without_plan_gets_the_default_plan_over_its_tradable_symbols(
    tmp_path: Path,
) -> None:
    # a market in the SPEC §7.2 keys only, as someone else would write it
    path = _write(
        tmp_path,
        {
            "cash": "10000",
            "positions": {"AAA": "100"},
            "symbols": {
                "AAA": {"price": "50", "spread_ticks": "1", "trades_per_min": 600},
                "BBB": {"price": "20", "depth": 500},
                "CCC": {"price": "30"},
                "HALT": {"price": "10", "tradable": False},
            },
        },
    )
    scenario = BenchScenario.load(path)
    plan = [(i.symbol, i.action.value, i.trade_amount) for i in scenario.items]
    # half the position's opening value sold; half the cash split over the symbols not held
    assert plan == [
        ("AAA", "SELL", Decimal(-2500)),
        ("BBB", "BUY", Decimal(2500)),
        ("CCC", "BUY", Decimal(2500)),
    ]
    event = plan_event(scenario, "bench-default", datetime.now(UTC))
    assert len(parse_any_event(event).plan.items) == 3  # type: ignore[union-attr]


def test_max_seeds_keeps_the_first_of_the_requested_seeds(tmp_path: Path) -> None:
    document = {
        "symbols": {"AAA": {"price": "10"}},
        "max_seeds": 2,
        "plan": [{"symbol": "AAA", "action": "BUY", "trade_amount": "100"}],
    }
    capped = BenchScenario.load(_write(tmp_path, document))
    assert capped.seeds([5, 6, 7]) == [5, 6]
    uncapped = BenchScenario.load(_write(tmp_path, {**document, "max_seeds": None}))
    assert uncapped.seeds([5, 6, 7]) == [5, 6, 7]
    with pytest.raises(ScenarioError):
        BenchScenario.load(_write(tmp_path, {**document, "max_seeds": 0}))


SPEC_72_KEYS = {
    "price",
    "volatility",
    "drift",
    "spread_ticks",
    "depth",
    "trades_per_min",
    "avg_trade_size",
    "trade_impact_share",
    "fractionable",
    "tradable",
}


@pytest.mark.parametrize("path", shipped_paths(SCENARIOS), ids=lambda p: p.stem)
def test_every_shipped_symbol_is_written_in_exactly_the_spec_7_2_keys(path: Path) -> None:
    symbols = json.loads(path.read_text())["symbols"]
    assert symbols
    for symbol, spec in symbols.items():
        assert set(spec) == SPEC_72_KEYS, symbol
        assert Decimal(spec["spread_ticks"]) >= 1, symbol


def test_the_margin_scenario_needs_the_sells_proceeds_to_fund_its_buys() -> None:
    scenario = BenchScenario.load(SCENARIOS / "margin-sells-fund-buys.json")
    buys = sum(i.trade_amount for i in scenario.items if i.trade_amount > 0)
    sells = -sum(i.trade_amount for i in scenario.items if i.trade_amount < 0)
    assert scenario.market.account.type == "margin"
    assert buys > scenario.market.cash  # cash alone cannot fund them
    assert buys <= scenario.market.cash + sells  # the sells' proceeds can
    equity = scenario.market.cash + sum(
        qty * scenario.market.symbols[s].price for s, qty in scenario.market.positions.items()
    )
    assert buys + sells <= equity  # within the default MAX_PLAN_EQUITY_FRACTION (1)
