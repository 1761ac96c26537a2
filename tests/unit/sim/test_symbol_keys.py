"""Symbol keys (SPEC §7.2): class defaults, the accepted old names, and refusals."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from alpaca_sim.classes import CLASS_DEFAULTS
from alpaca_sim.scenario import Scenario, SymbolSpec


def test_a_symbol_without_keys_takes_the_liquid_class() -> None:
    symbol = SymbolSpec.model_validate({"price": "50"})
    assert symbol.market_class == "liquid"
    for key, value in CLASS_DEFAULTS["liquid"].items():
        assert getattr(symbol, key) == value


def test_a_named_class_fills_every_key_left_out_and_keeps_the_given_ones() -> None:
    symbol = SymbolSpec.model_validate({"price": "450", "class": "multi_tick", "depth": 150})
    assert symbol.depth == 150
    assert symbol.spread_ticks == CLASS_DEFAULTS["multi_tick"]["spread_ticks"]
    assert symbol.trades_per_min == CLASS_DEFAULTS["multi_tick"]["trades_per_min"]


def test_spread_bps_becomes_ticks_at_the_opening_price() -> None:
    assert SymbolSpec.model_validate({"price": "40", "spread_bps": "30"}).spread_ticks == 12
    # never under one tick; sub-dollar prices count in $0.0001 ticks
    assert SymbolSpec.model_validate({"price": "500", "spread_bps": "0.1"}).spread_ticks == 1
    sub_dollar = SymbolSpec.model_validate({"price": "0.85", "spread_bps": "60"})
    assert sub_dollar.spread_ticks == Decimal("51.00")
    # the thin class is quoted in bps: its default spread is converted the same way
    thin = SymbolSpec.model_validate({"price": "20", "class": "thin"})
    assert thin.spread_ticks == Decimal("7.00")
    # a given spread_ticks wins over a given spread_bps
    both = SymbolSpec.model_validate({"price": "40", "spread_bps": "30", "spread_ticks": 2})
    assert both.spread_ticks == 2


def test_trade_rate_per_min_is_an_alias_of_trades_per_min() -> None:
    old = SymbolSpec.model_validate({"price": "50", "trade_rate_per_min": "6"})
    assert old.trades_per_min == 6
    both = SymbolSpec.model_validate(
        {"price": "50", "trade_rate_per_min": "6", "trades_per_min": "9"}
    )
    assert both.trades_per_min == 9


@pytest.mark.parametrize(
    "keys",
    [
        {"price": "50", "class": "illiquid"},
        {"price": "50", "spread_ticks": "0.5"},
        {"price": "50", "trade_impact_share": "1.5"},
        {"price": "50", "avg_trade_size": "0"},
        {"price": "0"},
    ],
)
def test_invalid_symbol_keys_are_refused(keys: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        SymbolSpec.model_validate(keys)


def test_a_scenario_file_in_the_spec_keys_loads_as_written(tmp_path: Path) -> None:
    keys = {
        "price": "98.5",
        "volatility": "0.07",
        "drift": "0.01",
        "spread_ticks": "1.2",
        "depth": 700,
        "trades_per_min": 150,
        "avg_trade_size": 120,
        "trade_impact_share": "0.4",
        "fractionable": False,
        "tradable": True,
    }
    path = tmp_path / "held_out.json"
    path.write_text(json.dumps({"symbols": {"AGG": keys}}), encoding="utf-8")
    symbol = Scenario.load(path).symbols["AGG"]
    flags = {"fractionable": False, "tradable": True}
    numbers = {key: Decimal(str(value)) for key, value in keys.items() if key not in flags}
    assert symbol.model_dump(include=set(keys)) == {**numbers, **flags}
