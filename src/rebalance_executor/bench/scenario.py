"""Benchmark scenarios: a simulated market (``alpaca_sim`` keys) plus the plan and time budget.

One JSON file carries both: the simulator reads its own keys (``symbols``, ``cash``,
``positions``...) and ignores the rest; this module reads the benchmark keys (``plan``,
``budget_s``, ``time_scale``, ``step_s``, ``kind``, ``env``, ``max_seeds``). A file without
``plan`` (a market written by someone else in the SPEC §7.2 keys) gets the default plan of
:func:`default_plan`. See scenarios/README.md.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alpaca_sim.scenario import Scenario
from rebalance_executor.domain.plan import PlanItem

#: The shipped set run by ``bench --all`` (file stems under ``scenarios/``), in report order.
SHIPPED: Final = (
    "liquid-1tick",
    "multi-tick",
    "volatile",
    "thin-etf",
    "trending-against",
    "margin-sells-fund-buys",
    "scale_10",
    "scale_50",
    "scale_200",
)
SCENARIO_DIR: Final = Path("scenarios")
_BENCH_KEYS: Final = ("budget_s", "time_scale", "step_s", "env", "max_seeds")
#: The default plan (no ``plan`` key): sell this share of each opening position's value, and
#: spend this share of the starting cash, split equally over the symbols without a position.
DEFAULT_SELL_SHARE: Final = Decimal("0.5")
DEFAULT_BUY_SHARE: Final = Decimal("0.5")


class ScenarioError(ValueError):
    """A scenario file is unreadable or invalid; the message names the file and the problem."""


class ScenarioKind(StrEnum):
    QUALITY = "quality"
    SCALE = "scale"


class BenchScenario(BaseModel):
    """A benchmark scenario: market + plan + budget. Frozen; money is Decimal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    kind: ScenarioKind = ScenarioKind.QUALITY
    market: Scenario
    items: tuple[PlanItem, ...] = Field(min_length=1)
    # The Lambda timeout (simulated seconds) the countdown context starts from.
    budget_s: float = Field(default=300.0, ge=20, le=900)
    # Simulated seconds per real second for real-time use of the scenario (``sim``/``run``); the
    # benchmark itself runs on a discrete-event clock (bench/virtual_time.py) and ignores it.
    time_scale: float = Field(default=30.0, gt=0, le=1000)
    step_s: float = Field(default=1.0, gt=0, le=60)
    # Extra handler environment (SPEC §3.4 names), e.g. a wider MAX_SPREAD_BPS.
    env: dict[str, str] = Field(default_factory=dict)
    # At most this many of the requested seeds run (the first ones): bounds the heavy scale set.
    max_seeds: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _symbols_exist(self) -> BenchScenario:
        unknown = sorted({i.symbol for i in self.items} - set(self.market.symbols))
        if unknown:
            raise ValueError(f"plan: symbols not in the scenario's market: {unknown}")
        return self

    @property
    def item_count(self) -> int:
        return len(self.items)

    def seeds(self, requested: Sequence[int]) -> list[int]:
        """The requested seeds this scenario runs: the first ``max_seeds`` of them."""
        return list(requested if self.max_seeds is None else requested[: self.max_seeds])

    @classmethod
    def load(cls, path: Path) -> BenchScenario:
        """Read a scenario file. Raises ScenarioError naming the file and the problem."""
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
            market = Scenario.load(path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ScenarioError(f"{path}: cannot read scenario: {exc}") from exc
        except ValidationError as exc:
            raise ScenarioError(f"{path}: invalid market: {exc}") from exc
        if not isinstance(data, dict):
            raise ScenarioError(f"{path}: a scenario must be a JSON object")
        plan = data.get("plan")
        items = plan.get("items") if isinstance(plan, dict) else plan
        if plan is None:
            items = default_plan(market)
            if not items:
                raise ScenarioError(f"{path}: no plan, and no tradable symbol to build one over")
        try:
            return cls.model_validate(
                {
                    "name": data.get("name", path.stem),
                    "description": data.get("description", ""),
                    "kind": data.get("kind", ScenarioKind.QUALITY),
                    "market": market,
                    "items": items,
                    **{k: data[k] for k in _BENCH_KEYS if k in data},
                }
            )
        except ValidationError as exc:
            raise ScenarioError(f"{path}: invalid benchmark keys: {exc}") from exc


def default_plan(market: Scenario) -> list[dict[str, str]]:
    """The plan of a file without ``plan``: over its tradable symbols, in file order, SELL
    ``DEFAULT_SELL_SHARE`` of each opening position's value and BUY the symbols without a
    position with ``DEFAULT_BUY_SHARE`` of the cash split equally (whole dollars, ≥ $1)."""
    tradable = {s: spec for s, spec in market.symbols.items() if spec.tradable}
    held = {s: q for s, q in market.positions.items() if s in tradable and q > 0}
    buys = [s for s in tradable if s not in held]
    each_buy = (market.cash * DEFAULT_BUY_SHARE / len(buys)) if buys else Decimal(0)
    items = []
    for symbol, spec in tradable.items():
        qty = held.get(symbol)
        amount = -qty * spec.price * DEFAULT_SELL_SHARE if qty is not None else each_buy
        dollars = int(amount)  # toward zero: never more than the share
        if abs(dollars) >= 1:
            action = "SELL" if dollars < 0 else "BUY"
            items.append({"symbol": symbol, "action": action, "trade_amount": str(dollars)})
    return items


def shipped_paths(root: Path = SCENARIO_DIR) -> list[Path]:
    """The ``--all`` scenario files, in report order."""
    return [root / f"{name}.json" for name in SHIPPED]


def plan_event(scenario: BenchScenario, plan_id: str, now: datetime) -> dict[str, Any]:
    """A ``RebalancePlanned`` EventBridge envelope for the scenario's plan, stamped ``now``."""
    stamp = now.isoformat().replace("+00:00", "Z")
    items = [
        {
            "symbol": item.symbol,
            "action": item.action.value,
            "trade_amount": str(item.trade_amount),
            **({} if item.target_weight is None else {"target_weight": str(item.target_weight)}),
        }
        for item in scenario.items
    ]
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench:{plan_id}")),
        "detail-type": "RebalancePlanned",
        "source": "rebalance.bench",
        "account": "123456789012",
        "time": stamp,
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "schema_version": "1.0",
            "plan_id": plan_id,
            "correlation_id": plan_id,
            "timestamp": stamp,
            "items": items,
        },
    }
