"""Write the shipped scenario files (``python -m rebalance_executor.bench.generate [DIR]``).

The files under ``scenarios/`` are the source of truth; this generator documents how they were
made and regenerates them byte-identically. Market parameters were fixed before any policy was
run on them and are never tuned to flatter a policy: trade prints stay at the simulator's
conservative default (0.5 per simulated minute) except for the illiquid ETFs (0.25).
"""

from __future__ import annotations

import json
import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

# symbol: (price, spread_bps, volatility, depth)
Spec = tuple[str, str, str, int]
CASH: Final = Decimal(70_000)


def _symbol(spec: Spec, **extra: Any) -> dict[str, Any]:
    price, spread, vol, depth = spec
    return {"price": price, "spread_bps": spread, "volatility": vol, "depth": depth, **extra}


def _scenario(
    name: str,
    description: str,
    symbols: dict[str, dict[str, Any]],
    trades: dict[str, int],
    *,
    kind: str = "quality",
    budget_s: int = 300,
    time_scale: int = 30,
    liquidate: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Sells get a position 1.5x their size (exactly their size when liquidated)."""
    positions = {}
    items = []
    for sym, amount in trades.items():
        price = Decimal(symbols[sym]["price"])
        item: dict[str, Any] = {
            "symbol": sym,
            "action": "BUY" if amount > 0 else "SELL",
            "trade_amount": str(amount),
        }
        if amount < 0:
            factor = Decimal(1) if sym in liquidate else Decimal("1.5")
            positions[sym] = str((Decimal(-amount) * factor / price).quantize(Decimal(1)))
            if sym in liquidate:
                item["target_weight"] = "0"
        items.append(item)
    return {
        "name": name,
        "description": description,
        "kind": kind,
        "budget_s": budget_s,
        "time_scale": time_scale,
        "step_s": 1,
        "cash": str(CASH),
        "positions": positions,
        "symbols": symbols,
        "plan": {"items": items},
    }


CALM: Final[dict[str, Spec]] = {
    "SPY": ("500.00", "1.0", "0.10", 600),
    "QQQ": ("430.00", "1.2", "0.12", 500),
    "VTI": ("250.00", "1.5", "0.10", 400),
    "IWM": ("200.00", "2.0", "0.12", 400),
    "EFA": ("78.00", "2.5", "0.10", 500),
    "AGG": ("98.00", "2.0", "0.05", 600),
    "BND": ("72.00", "2.5", "0.05", 600),
    "TLT": ("92.00", "2.0", "0.10", 500),
    "GLD": ("215.00", "2.0", "0.10", 300),
    "VNQ": ("85.00", "3.0", "0.12", 300),
}
NORMAL: Final[dict[str, Spec]] = {
    "SPY": ("500.00", "1.0", "0.18", 500),
    "QQQ": ("430.00", "1.2", "0.22", 400),
    "IWM": ("200.00", "2.0", "0.25", 400),
    "AAPL": ("190.00", "1.5", "0.28", 300),
    "MSFT": ("410.00", "1.5", "0.26", 200),
    "NVDA": ("880.00", "2.0", "0.45", 200),
    "AMZN": ("180.00", "2.0", "0.32", 300),
    "TLT": ("92.00", "2.0", "0.16", 500),
    "XLE": ("95.00", "3.0", "0.25", 300),
    "HYG": ("77.00", "3.0", "0.08", 400),
}
ILLIQUID: Final[dict[str, Spec]] = {
    "EWN": ("45.00", "25", "0.20", 150),
    "EIDO": ("21.00", "45", "0.24", 200),
    "GXC": ("70.00", "35", "0.25", 100),
    "KBWY": ("17.50", "40", "0.22", 250),
    "PFFD": ("19.80", "30", "0.08", 300),
    "EPU": ("38.00", "50", "0.25", 120),
    "ECH": ("27.00", "40", "0.24", 150),
    "FLGB": ("24.50", "60", "0.18", 100),
}
VOLATILE: Final[dict[str, Spec]] = {
    "TSLA": ("175.00", "3.0", "0.70", 300),
    "NVDA": ("880.00", "3.0", "0.65", 200),
    "AMD": ("160.00", "3.0", "0.60", 300),
    "COIN": ("230.00", "6.0", "0.95", 150),
    "MSTR": ("1500.00", "8.0", "1.00", 60),
    "ARKK": ("48.00", "5.0", "0.60", 400),
    "SOXL": ("40.00", "4.0", "1.00", 600),
    "TQQQ": ("60.00", "3.0", "0.65", 600),
}


# stem: (description, market, signed trade dollars, liquidated symbol, extra symbol keys)
QUALITY: Final[dict[str, tuple[str, dict[str, Spec], str, dict[str, str]]]] = {
    "calm": (
        "Liquid ETFs, low volatility (10-12%), 1-3 bps spreads: a quiet rebalance.",
        CALM,
        "SPY:-15000 TLT:-8000 GLD:-6000 QQQ:12000 VTI:10000 IWM:8000 EFA:8000 AGG:10000 "
        "BND:9000 VNQ:6000 liquidate:GLD",
        {},
    ),
    "normal": (
        "Large caps and ETFs at ordinary volatility (8-45%), 1-3 bps spreads.",
        NORMAL,
        "SPY:-12000 NVDA:-9000 HYG:-7000 QQQ:11000 IWM:7000 AAPL:9000 MSFT:12000 AMZN:8000 "
        "TLT:10000 XLE:6000 liquidate:HYG",
        {},
    ),
    "wide-spread": (
        "Illiquid country/sector ETFs: 25-60 bps spreads, thin books, 0.25 prints/min.",
        ILLIQUID,
        "EWN:-6000 GXC:-5000 EPU:-4000 EIDO:7000 KBWY:6000 PFFD:9000 ECH:6000 FLGB:5000 "
        "liquidate:EPU",
        {"trade_rate_per_min": "0.25"},
    ),
    "volatile": (
        "High-volatility names (60-100% annualised), 3-8 bps spreads.",
        VOLATILE,
        "TSLA:-8000 COIN:-6000 SOXL:-5000 NVDA:10000 AMD:8000 MSTR:6000 ARKK:7000 TQQQ:9000 "
        "liquidate:SOXL",
        {},
    ),
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


def shipped() -> dict[str, dict[str, Any]]:
    """Every shipped scenario by file stem."""
    out = {}
    for stem, (description, market, text, extra) in QUALITY.items():
        trades, liquidate = _trades(text)
        symbols = {s: _symbol(v, **extra) for s, v in market.items()}
        out[stem] = _scenario(stem, description, symbols, trades, liquidate=liquidate)
    out["trending-against"] = _trending()
    for n in (10, 50, 200):
        out[f"scale_{n}"] = _scale(n)
    return out


def _trending() -> dict[str, Any]:
    """Drift ±30/yr annualised (≈ 3 bps per simulated minute) against every trade."""
    trades = {
        "SPY": -12000,
        "TLT": -8000,
        "GLD": -6000,
        "QQQ": 12000,
        "VTI": 10000,
        "IWM": 8000,
        "EFA": 8000,
        "AGG": 10000,
        "BND": 9000,
        "VNQ": 6000,
    }
    symbols = {
        s: _symbol(NORMAL.get(s, CALM[s]), drift="30" if trades[s] > 0 else "-30") for s in trades
    }
    return _scenario(
        "trending-against",
        "Every symbol trends against its trade (buys rise, sells fall ~3 bps/min), vol 10-25%.",
        symbols,
        trades,
    )


def _scale(n: int) -> dict[str, Any]:
    """``n`` generic symbols ($20-400, 2-6 bps, vol 20%); 40% sells; $60k of buys in total."""
    rng = random.Random(f"scale:{n}")
    symbols: dict[str, dict[str, Any]] = {}
    trades: dict[str, int] = {}
    sells = n * 2 // 5
    for k in range(n):
        sym = f"S{k + 1:03d}"
        price = Decimal(rng.randint(2000, 40000)) / 100
        symbols[sym] = _symbol((str(price), str(rng.choice((2, 3, 4, 5, 6))), "0.20", 300))
        trades[sym] = -(30000 // sells) if k < sells else 60000 // (n - sells)
    return _scenario(
        f"scale_{n}",
        f"Scale set: {n} items on generic liquid symbols; constant per-tick polling cost.",
        symbols,
        trades,
        kind="scale",
        budget_s=600,
        time_scale=30,
    )


def main(argv: list[str] | None = None) -> int:
    target = Path((argv if argv is not None else sys.argv[1:] or ["scenarios"])[0])
    target.mkdir(parents=True, exist_ok=True)
    for stem, document in shipped().items():
        (target / f"{stem}.json").write_text(json.dumps(document, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
