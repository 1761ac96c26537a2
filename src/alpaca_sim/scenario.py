"""Scenario files: the symbols, starting account and market state a simulator run begins with.

A scenario is JSON (see ``scenarios/README.md``). Unknown keys are ignored so that the benchmark
can keep its own keys (``plan``, ``budget_s``...) in the same file.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SymbolSpec(BaseModel):
    """One simulated symbol. Volatility and drift are annualised (252 days of 6.5 hours)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    price: Decimal = Field(gt=0)
    spread_bps: Decimal = Field(default=Decimal("2.0"), gt=0)
    volatility: Decimal = Field(default=Decimal("0.20"), ge=0)
    drift: Decimal = Decimal("0.0")
    depth: Decimal = Field(default=Decimal(300), gt=0)
    fractionable: bool = True
    tradable: bool = True
    trade_rate_per_min: Decimal = Field(default=Decimal("0.5"), ge=0)
    name: str | None = None
    exchange: str = "NYSEARCA"


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

    Defaults: acknowledgement 50 ms and pending windows 150 ms (tens to a few hundred ms, the order
    of Alpaca's paper routing); 10 % random partial fills (Alpaca's paper-trading guide); 200
    requests per minute per key (Alpaca's trading API limit).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["faithful", "ideal"] = "faithful"
    ack_latency_ms: int = Field(default=50, ge=0)
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
    Streams: ``stream_connection_limit`` connections per account and feed (Alpaca: 1 on most
    plans); ``stream_symbol_limit`` symbols per channel (None: the plan's, 30 without the sip
    entitlement, unlimited with it).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    sip_entitled: bool = True
    stream_connection_limit: int = Field(default=1, ge=1)
    stream_symbol_limit: int | None = Field(default=None, ge=1)


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


def _spec(price: str, spread: str, vol: str, depth: int, exchange: str, **kw: object) -> SymbolSpec:
    return SymbolSpec.model_validate(
        {
            "price": Decimal(price),
            "spread_bps": Decimal(spread),
            "volatility": Decimal(vol),
            "depth": Decimal(depth),
            "exchange": exchange,
            **kw,
        }
    )


def default_symbols() -> dict[str, SymbolSpec]:
    """The default universe (SPEC §7): liquid ETFs and large caps, one non-fractionable symbol
    (``NOFR``) and one stock under $1 (``PENY``)."""
    return {
        "SPY": _spec("500.00", "0.5", "0.15", 500, "NYSEARCA", name="SPDR S&P 500 ETF"),
        "QQQ": _spec("430.00", "0.7", "0.20", 400, "NASDAQ", name="Invesco QQQ Trust"),
        "IWM": _spec("200.00", "1.0", "0.22", 400, "NYSEARCA", name="iShares Russell 2000"),
        "VTI": _spec("250.00", "1.0", "0.15", 300, "NYSEARCA", name="Vanguard Total Stock"),
        "AAPL": _spec("190.00", "1.0", "0.25", 300, "NASDAQ", name="Apple Inc."),
        "MSFT": _spec("410.00", "1.0", "0.25", 200, "NASDAQ", name="Microsoft Corp."),
        "NVDA": _spec("880.00", "1.5", "0.45", 200, "NASDAQ", name="NVIDIA Corp."),
        "TLT": _spec("92.00", "1.5", "0.15", 500, "NASDAQ", name="iShares 20+ Year Treasury"),
        "BND": _spec("72.00", "1.5", "0.06", 500, "NASDAQ", name="Vanguard Total Bond"),
        "GLD": _spec("215.00", "1.5", "0.14", 300, "NYSEARCA", name="SPDR Gold Shares"),
        "NOFR": _spec("45.00", "4.0", "0.30", 800, "NYSE", fractionable=False, name="No-fraction"),
        "PENY": _spec("0.85", "60.0", "0.60", 20000, "NASDAQ", name="Sub-dollar stock"),
    }


def default_scenario() -> Scenario:
    """The scenario used when none is given."""
    return Scenario(
        name="default", description="SPEC §7 default universe", symbols=default_symbols()
    )
