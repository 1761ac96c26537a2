"""Scenario files: the symbols, starting account and market state a simulator run begins with.

A scenario is JSON (see ``scenarios/README.md``). Unknown keys are ignored so that the benchmark
can keep its own keys (``plan``, ``budget_s``...) in the same file.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alpaca_sim.classes import CLASS_DEFAULTS, DEFAULT_CLASS, MarketClass

_LIQUID = CLASS_DEFAULTS[DEFAULT_CLASS]


class SymbolSpec(BaseModel):
    """One simulated symbol (SPEC §7.2 keys; README "The market"). Volatility and drift are
    annualised (252 days of 6.5 hours). Keys left out take the defaults of the symbol's
    ``class`` (:mod:`alpaca_sim.classes`); ``spread_bps`` is accepted and turned into
    ``spread_ticks`` at the opening price, ``trade_rate_per_min`` is an alias of
    ``trades_per_min``."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    # the field defaults are the default class's; the validator fills in the named class's
    price: Decimal = Field(gt=0)
    volatility: Decimal = Field(default=_LIQUID["volatility"], ge=0)
    drift: Decimal = Decimal("0.0")
    spread_ticks: Decimal = Field(default=_LIQUID["spread_ticks"], ge=1)
    depth: Decimal = Field(default=_LIQUID["depth"], gt=0)
    trades_per_min: Decimal = Field(default=_LIQUID["trades_per_min"], ge=0)
    avg_trade_size: Decimal = Field(default=_LIQUID["avg_trade_size"], ge=1)
    trade_impact_share: Decimal = Field(default=_LIQUID["trade_impact_share"], ge=0, le=1)
    fractionable: bool = True
    tradable: bool = True
    name: str | None = None
    exchange: str = "NYSEARCA"
    market_class: MarketClass = Field(default=DEFAULT_CLASS, alias="class")

    @model_validator(mode="before")
    @classmethod
    def _class_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "trades_per_min" not in data and "trade_rate_per_min" in data:
            data["trades_per_min"] = data["trade_rate_per_min"]
        named = data.get("class", data.get("market_class", DEFAULT_CLASS))
        defaults = CLASS_DEFAULTS.get(named, {})
        given_spread = "spread_ticks" in data or "spread_bps" in data
        for key, value in defaults.items():
            if key not in data and not (key.startswith("spread_") and given_spread):
                data[key] = value
        if "spread_ticks" not in data and "spread_bps" in data and "price" in data:
            data["spread_ticks"] = spread_ticks_from_bps(
                Decimal(str(data["spread_bps"])), Decimal(str(data["price"]))
            )
        return data


def spread_ticks_from_bps(spread_bps: Decimal, price: Decimal) -> Decimal:
    """A spread quoted in bps of ``price`` as a mean in ticks (at least one tick)."""
    if price <= 0:
        return Decimal(1)
    tick = Decimal("0.01") if price >= 1 else Decimal("0.0001")
    return max(Decimal(1), (spread_bps * price / 10_000 / tick).quantize(Decimal("0.01")))


class AccountSpec(BaseModel):
    """The account type every API key starts with (margin, as Alpaca's paper accounts are)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["margin", "cash"] = "margin"
    pattern_day_trader: bool = False
    # day trades already made in the rolling 5-day window (PDT protection counts them)
    daytrade_count: int = Field(default=0, ge=0)


class BrokerSpec(BaseModel):
    """How the broker behaves (README "The broker"): ``faithful`` follows Alpaca's documented and
    reported behaviour; ``ideal`` (instant acknowledgement, cancel and replace, no random partial
    fills, no rate limit) is for simulator unit tests of market physics only.

    Defaults: acknowledgement 250 ms (an order becomes eligible to fill a few hundred ms after
    submission: Alpaca's hop plus the venue's, SPEC §7.2) and pending windows 150 ms; 10 % random
    partial fills (Alpaca's paper-trading guide); 200 requests per minute per key (Alpaca's
    trading API limit).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["faithful", "ideal"] = "faithful"
    ack_latency_ms: int = Field(default=250, ge=0)
    pending_ms: int = Field(default=150, ge=0)
    partial_fill_probability: float = Field(default=0.10, ge=0.0, le=1.0)
    rate_limit_per_min: int = Field(default=200, ge=1)

    @property
    def ideal(self) -> bool:
        return self.mode == "ideal"


class MarketDataSpec(BaseModel):
    """The account's market-data subscription (scenario key ``"market_data"``).

    ``sip_entitled`` (default True, as with Alpaca's paid plan): ``feed=sip`` is served and is
    the default feed; False models the free plan (recent sip data is 403, default feed iex).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    sip_entitled: bool = True


class Scenario(BaseModel):
    """A simulated market and the account every API key starts with."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = "default"
    description: str = ""
    cash: Decimal = Field(default=Decimal(100_000), ge=0)
    market_open: bool = True
    symbols: dict[str, SymbolSpec] = Field(default_factory=dict)
    positions: dict[str, Decimal] = Field(default_factory=dict)
    account: AccountSpec = Field(default_factory=AccountSpec)
    broker: BrokerSpec = Field(default_factory=BrokerSpec)
    market_data: MarketDataSpec = Field(default_factory=MarketDataSpec)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        """Read a scenario JSON file.

        Raises OSError when the file cannot be read and pydantic.ValidationError (a ValueError)
        when its content is not a valid scenario. Numbers are read as Decimal, never float.
        """
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        scenario = cls.model_validate(data)
        if not scenario.symbols:
            return scenario.model_copy(update={"symbols": default_symbols()})
        return scenario


def _spec(price: str, exchange: str, name: str, **kw: object) -> SymbolSpec:
    return SymbolSpec.model_validate(
        {"price": Decimal(price), "exchange": exchange, "name": name, **kw}
    )


def default_symbols() -> dict[str, SymbolSpec]:
    """The default universe (SPEC §7): liquid ETFs and large caps of the §7.2 classes, one
    non-fractionable symbol (``NOFR``) and one stock under $1 (``PENY``). SPY and QQQ show 4x the
    class touch size (calibration: x3-5); bond ETFs trade 1-5 times a second (3/s here)."""
    bond = {"trades_per_min": Decimal(180), "volatility": Decimal("0.12")}
    return {
        "SPY": _spec("500.00", "NYSEARCA", "SPDR S&P 500 ETF", depth=2280, volatility="0.15"),
        "QQQ": _spec("430.00", "NASDAQ", "Invesco QQQ Trust", depth=2280),
        "IWM": _spec("200.00", "NYSEARCA", "iShares Russell 2000", volatility="0.22"),
        "VTI": _spec("250.00", "NYSEARCA", "Vanguard Total Stock", volatility="0.15"),
        "AAPL": _spec("190.00", "NASDAQ", "Apple Inc.", volatility="0.25"),
        "MSFT": _spec("410.00", "NASDAQ", "Microsoft Corp.", **{"class": "multi_tick"}),
        "NVDA": _spec(
            "880.00", "NASDAQ", "NVIDIA Corp.", volatility="0.45", **{"class": "multi_tick"}
        ),
        "TLT": _spec("92.00", "NASDAQ", "iShares 20+ Year Treasury", **bond),
        "BND": _spec("72.00", "NASDAQ", "Vanguard Total Bond", **{**bond, "volatility": "0.06"}),
        "GLD": _spec("215.00", "NYSEARCA", "SPDR Gold Shares", volatility="0.14"),
        "NOFR": _spec("45.00", "NYSE", "No-fraction", fractionable=False, **{"class": "thin"}),
        "PENY": _spec("0.85", "NASDAQ", "Sub-dollar stock", spread_bps=60, **{"class": "thin"}),
    }


def default_scenario() -> Scenario:
    """The scenario used when none is given."""
    return Scenario(
        name="default", description="SPEC §7 default universe", symbols=default_symbols()
    )
