"""Write the shipped scenario files (``python -m rebalance_executor.bench.generate [DIR]``).

The files under ``scenarios/`` are the source of truth; this generator documents how they were
made and regenerates them byte-identically. Every market value comes from the parameter classes
of ``market-calibration.md`` (SPEC §7.2), with the reasoning per value in scenarios/README.md; they
were fixed before any policy ran on them and are never adjusted after a policy's result.
"""

from __future__ import annotations

import json
import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NamedTuple

CASH: Final = Decimal(70_000)
#: The Lambda timeout (simulated seconds) of a quality scenario; the scale set gets 600.
QUALITY_BUDGET_S: Final = 300
#: Annualised drift of ≈ 3 bps per simulated minute (3e-4 x 390 min x 252 days ≈ 29.5).
TREND_AGAINST: Final = "30"


class Sym(NamedTuple):
    """One symbol's §7.2 keys (volatility annualised; spread in ticks; trades both sides)."""

    price: str
    volatility: str
    spread_ticks: str
    depth: int
    trades_per_min: int
    avg_trade_size: int
    trade_impact_share: str

    def keys(self, drift: str = "0") -> dict[str, Any]:
        return {
            "price": self.price,
            "volatility": self.volatility,
            "drift": drift,
            "spread_ticks": self.spread_ticks,
            "depth": self.depth,
            "trades_per_min": self.trades_per_min,
            "avg_trade_size": self.avg_trade_size,
            "trade_impact_share": self.trade_impact_share,
            "fractionable": True,
            "tradable": True,
        }


# 1-tick liquid: one tick 90-97 % of the time (mean 1.05 ticks), 10-30 trades/s (bond ETFs
# 1-5/s), 60-130 shares a trade, touch ≈ 570 shares (x3-5 for SPY and QQQ), half the variance
# from trades.
LIQUID: Final = {
    "SPY": Sym("600.00", "0.15", "1.05", 2300, 1200, 75, "0.5"),
    "QQQ": Sym("500.00", "0.20", "1.05", 1700, 900, 80, "0.5"),
    "IWM": Sym("220.00", "0.22", "1.05", 570, 600, 100, "0.5"),
    "TLT": Sym("90.00", "0.14", "1.05", 570, 180, 130, "0.5"),
    "AGG": Sym("98.00", "0.06", "1.05", 570, 120, 120, "0.5"),
    "BND": Sym("72.00", "0.06", "1.05", 570, 120, 130, "0.5"),
}
# Multi-tick large caps above $400: 0.5-1 bps of price (0.75 bps here: 3-7 ticks), 10-45
# trades/s, 40-90 shares a trade (high prices: the low end), touch 100-300 shares.
MULTI_TICK: Final = {
    "MSFT": Sym("450.00", "0.25", "3.4", 200, 900, 60, "0.5"),
    "NVDA": Sym("880.00", "0.45", "6.6", 150, 2400, 47, "0.5"),
    "META": Sym("600.00", "0.35", "4.5", 150, 720, 55, "0.5"),
    "LLY": Sym("800.00", "0.30", "6.0", 100, 600, 40, "0.5"),
    "COST": Sym("900.00", "0.22", "6.8", 100, 600, 40, "0.5"),
}
# Volatile (TSLA-like): 1-3 ticks, 15-40 trades/s, 50-100 shares, touch 300-1,000 shares,
# 0.5-0.7 of the variance from trades.
VOLATILE: Final = {
    "TSLA": Sym("250.00", "0.60", "1.5", 500, 2400, 60, "0.6"),
    "AMD": Sym("150.00", "0.50", "1.5", 600, 1500, 80, "0.6"),
    "COIN": Sym("230.00", "0.80", "3.0", 300, 900, 60, "0.7"),
    "MSTR": Sym("350.00", "0.90", "3.0", 300, 900, 50, "0.7"),
    "PLTR": Sym("80.00", "0.65", "1.2", 1000, 1800, 100, "0.6"),
    "SMCI": Sym("40.00", "0.90", "2.0", 800, 900, 100, "0.7"),
}
# Thin country/sector ETFs: 10-60 bps quoted (spread_ticks = bps x price / 1 cent), 3-8
# trades/min, 120-140 shares a trade, touch 200-1,000 shares, 0.3 of the variance from trades.
THIN: Final = {
    "EWN": Sym("45.00", "0.20", "11", 400, 6, 130, "0.3"),
    "EIDO": Sym("21.00", "0.24", "9", 1000, 5, 140, "0.3"),
    "GXC": Sym("70.00", "0.25", "25", 200, 3, 120, "0.3"),
    "KBWY": Sym("17.50", "0.22", "7", 800, 8, 140, "0.3"),
    "EPU": Sym("38.00", "0.25", "19", 300, 4, 130, "0.3"),
    "FLGB": Sym("24.50", "0.18", "15", 500, 3, 120, "0.3"),
}


def _scenario(
    name: str,
    description: str,
    symbols: dict[str, dict[str, Any]],
    trades: str,
    *,
    kind: str = "quality",
    cash: Decimal = CASH,
    held: Decimal = Decimal("1.5"),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Sells get a position ``held`` x their size (exactly their size when liquidated)."""
    amounts, liquidate = _trades(trades)
    positions = {}
    items = []
    for sym, amount in amounts.items():
        price = Decimal(symbols[sym]["price"])
        item: dict[str, Any] = {
            "symbol": sym,
            "action": "BUY" if amount > 0 else "SELL",
            "trade_amount": str(amount),
        }
        if amount < 0:
            factor = Decimal(1) if sym in liquidate else held
            positions[sym] = str((Decimal(-amount) * factor / price).quantize(Decimal(1)))
            if sym in liquidate:
                item["target_weight"] = "0"
        items.append(item)
    return {
        "name": name,
        "description": description,
        "kind": kind,
        "budget_s": QUALITY_BUDGET_S if kind == "quality" else 600,
        "step_s": 1,
        **(extra or {}),
        "cash": str(cash),
        "positions": positions,
        "symbols": symbols,
        "plan": {"items": items},
    }


def _trades(text: str) -> tuple[dict[str, int], tuple[str, ...]]:
    """``"SPY:-100 QQQ:200 liquidate:SPY"`` → ({symbol: dollars}, liquidated symbols)."""
    trades: dict[str, int] = {}
    liquidate: list[str] = []
    for token in text.split():
        key, value = token.split(":")
        if key == "liquidate":
            liquidate.append(value)
        else:
            trades[key] = int(value)
    return trades, tuple(liquidate)


def _keys(table: dict[str, Sym]) -> dict[str, dict[str, Any]]:
    return {s: spec.keys() for s, spec in table.items()}


def shipped() -> dict[str, dict[str, Any]]:
    """Every shipped scenario by file stem, in report order."""
    out = {
        "liquid-1tick": _scenario(
            "liquid-1tick",
            "One-tick liquid ETFs (SPY, QQQ, IWM, TLT, AGG, BND-like): the spread is one cent.",
            _keys(LIQUID),
            "SPY:-15000 TLT:-8000 QQQ:12000 IWM:8000 AGG:10000 BND:9000 liquidate:TLT",
        ),
        "multi-tick": _scenario(
            "multi-tick",
            "Large caps above $400 (MSFT, NVDA, META, LLY, COST-like): 3-7 tick spreads.",
            _keys(MULTI_TICK),
            "NVDA:-12000 COST:-8000 MSFT:12000 META:10000 LLY:9000 liquidate:COST",
        ),
        "volatile": _scenario(
            "volatile",
            "High-volatility names (50-90 % annualised, TSLA-like): 1-3 tick spreads.",
            _keys(VOLATILE),
            "TSLA:-8000 COIN:-6000 SMCI:-5000 AMD:8000 MSTR:6000 PLTR:9000 liquidate:SMCI",
        ),
        "thin-etf": _scenario(
            "thin-etf",
            "Thin country/sector ETFs: 10-60 bps spreads, 3-8 trades a minute.",
            _keys(THIN),
            "EWN:-6000 GXC:-5000 EPU:-4000 EIDO:7000 KBWY:6000 FLGB:5000 liquidate:EPU",
        ),
        "trending-against": _trending(),
        "margin-sells-fund-buys": _margin(),
    }
    for n in (10, 50, 200):
        out[f"scale_{n}"] = _scale(n)
    return out


def _trending() -> dict[str, Any]:
    """The one-tick ETFs with every symbol trending against its trade (≈ 3 bps a minute)."""
    trades = "SPY:-12000 TLT:-8000 QQQ:12000 IWM:8000 AGG:10000 BND:9000"
    amounts, _ = _trades(trades)
    symbols = {
        s: spec.keys(drift=TREND_AGAINST if amounts[s] > 0 else f"-{TREND_AGAINST}")
        for s, spec in LIQUID.items()
    }
    return _scenario(
        "trending-against",
        "One-tick ETFs trending against every trade (buys rise, sells fall ≈ 3 bps a minute).",
        symbols,
        trades,
    )


def _margin() -> dict[str, Any]:
    """A margin account whose buys exceed its cash: the cash-only executor must wait for the
    sells' proceeds (Alpaca releases nothing until a sell fills)."""
    symbols = {
        **{s: LIQUID[s].keys() for s in ("SPY", "QQQ", "TLT", "AGG")},
        **{s: MULTI_TICK[s].keys() for s in ("NVDA", "MSFT")},
        "TSLA": VOLATILE["TSLA"].keys(),
    }
    return _scenario(
        "margin-sells-fund-buys",
        "Mixed rebalance on a margin account: $40k of buys against $5k of cash; the sells "
        "($42k) must fill before the buys can be funded (the executor is cash-only).",
        symbols,
        "SPY:-18000 NVDA:-14000 TLT:-10000 QQQ:12000 MSFT:11000 AGG:9000 TSLA:8000",
        cash=Decimal(5_000),
        held=Decimal(3),  # equity ≈ $131k: the $82k plan stays within MAX_PLAN_EQUITY_FRACTION
        extra={"account": {"type": "margin", "pattern_day_trader": False}},
    )


def _scale(n: int) -> dict[str, Any]:
    """``n`` one-tick symbols ($20-400, bond-ETF-end trade rates); 40 % sells; $60k of buys."""
    rng = random.Random(f"scale:{n}")
    symbols: dict[str, dict[str, Any]] = {}
    legs = []
    sells = n * 2 // 5
    for k in range(n):
        sym = f"S{k + 1:03d}"
        spec = Sym(
            price=str(Decimal(rng.randint(2000, 40000)) / 100),
            volatility=str(rng.choice(("0.15", "0.20", "0.25"))),
            spread_ticks="1.05",
            depth=570,
            trades_per_min=rng.choice((60, 120, 180, 240, 300)),
            avg_trade_size=rng.choice((60, 80, 100, 130)),
            trade_impact_share="0.5",
        )
        symbols[sym] = spec.keys()
        legs.append(f"{sym}:{-(30000 // sells) if k < sells else 60000 // (n - sells)}")
    return _scenario(
        f"scale_{n}",
        f"Scale set: {n} items on one-tick symbols; API load and wall time vs item count.",
        symbols,
        " ".join(legs),
        kind="scale",
    )


def main(argv: list[str] | None = None) -> int:
    target = Path((argv if argv is not None else sys.argv[1:] or ["scenarios"])[0])
    target.mkdir(parents=True, exist_ok=True)
    for stem, document in shipped().items():
        (target / f"{stem}.json").write_text(json.dumps(document, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
