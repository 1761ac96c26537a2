"""The four parameter classes of ``market-calibration.md`` (SPEC §7.2): per-class symbol defaults.

A symbol spec names its class with the optional key ``"class"`` (default ``liquid``); every key
it leaves out takes the class value. Each figure is the middle of the class's published range
(sources in the simulator README, "The market"); none was chosen by looking at a policy result.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Literal

MarketClass = Literal["liquid", "multi_tick", "volatile", "thin"]
DEFAULT_CLASS: Final[MarketClass] = "liquid"

# Keys a class supplies. ``spread_bps`` (thin ETFs are quoted in bps) is turned into ticks at the
# opening price like a scenario's own ``spread_bps``.
CLASS_DEFAULTS: Final[dict[MarketClass, dict[str, Decimal]]] = {
    # SPY, QQQ, IWM, bond ETFs, AAPL: one tick 90-97 % of the time -> Poisson excess of mean
    # 0.05 gives one tick 95 %; 10-30 trades/s; 60-130 shares a trade (S&P 500 mean 87);
    # touch ~570 shares (Nasdaq median NBBO size 571); variance share from trades ~0.5.
    "liquid": {
        "spread_ticks": Decimal("1.05"),
        "trades_per_min": Decimal(1200),
        "avg_trade_size": Decimal(87),
        "depth": Decimal(570),
        "trade_impact_share": Decimal("0.5"),
        "volatility": Decimal("0.20"),
    },
    # MSFT, NVDA > $400: 2-9 ticks (0.5-1 bps); 10-45 trades/s; 40-90 shares; touch 100-300.
    "multi_tick": {
        "spread_ticks": Decimal(5),
        "trades_per_min": Decimal(1650),
        "avg_trade_size": Decimal(65),
        "depth": Decimal(200),
        "trade_impact_share": Decimal("0.5"),
        "volatility": Decimal("0.30"),
    },
    # TSLA-like: 1-3 ticks; 15-40 trades/s; 50-100 shares; touch 300-1,000; share 0.5-0.7.
    "volatile": {
        "spread_ticks": Decimal(2),
        "trades_per_min": Decimal(1650),
        "avg_trade_size": Decimal(75),
        "depth": Decimal(650),
        "trade_impact_share": Decimal("0.6"),
        "volatility": Decimal("0.60"),
    },
    # Thin country/sector ETFs: 10-60 bps; 3-8 trades/min; 120-140 shares; touch 200-1,000;
    # variance share from trades ~0.3.
    "thin": {
        "spread_bps": Decimal(35),
        "trades_per_min": Decimal("5.5"),
        "avg_trade_size": Decimal(130),
        "depth": Decimal(600),
        "trade_impact_share": Decimal("0.3"),
        "volatility": Decimal("0.20"),
    },
}
