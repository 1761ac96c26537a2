"""Our own price impact: a private overlay on our later fills (README "Fill model").

Each of our taker executions of ``q`` shares moves the price we see by
``IMPACT_Y x daily volatility x sqrt(q / daily volume)`` (the square-root law: Tóth et al. 2011,
Maitrier, Loeper, Kanazawa & Bouchaud 2025; Almgren, Thum, Hauptmann & Li 2005), decaying as
``(1 + t / IMPACT_T0_S)^-1/2`` (Bouchaud et al.'s propagator). The overlay shifts only the book
our takers walk and the latent price our resting orders are checked against; the served quotes
and the tape never see it, so every policy meets the same exogenous market.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from alpaca_sim.scenario import SymbolSpec

IMPACT_Y = 0.5  # prefactor of the square-root law: of order one, lower end (the walk is extra)
IMPACT_T0_S = 1.0  # decay time scale of the propagator
SESSION_MINUTES = 390
NEGLIGIBLE = 1e-7  # an entry below this fraction of price is dropped


@dataclass
class ImpactOverlay:
    """Our decaying impact on one symbol, as a signed fraction of price (buys push it up)."""

    daily_volatility: float
    daily_volume: float
    entries: list[tuple[float, float]] = field(default_factory=list)

    @classmethod
    def for_spec(cls, spec: SymbolSpec) -> ImpactOverlay:
        volume = float(spec.trades_per_min * SESSION_MINUTES * spec.avg_trade_size)
        return cls(float(spec.volatility) / math.sqrt(252), max(volume, float(spec.depth)))

    def add(self, at_s: float, side: str, qty: float) -> None:
        """Record an execution of ``qty`` shares on ``side`` at ``at_s`` simulated seconds."""
        size = IMPACT_Y * self.daily_volatility * math.sqrt(qty / self.daily_volume)
        self.entries.append((at_s, size if side == "buy" else -size))

    def at(self, at_s: float) -> float:
        """The overlay at ``at_s``: the sum of every earlier entry, decayed."""
        total, kept = 0.0, []
        for start, size in self.entries:
            value = size / math.sqrt(1.0 + max(0.0, at_s - start) / IMPACT_T0_S)
            if abs(value) >= NEGLIGIBLE:
                kept.append((start, size))
                total += value
        self.entries = kept
        return total
