"""Scheduled allocations through the real handler: simulator (real alpaca-py) and moto."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.models import Position, TradeAccount

from alpaca_sim.testing import RunningSimulator
from rebalance_executor import handler
from rebalance_executor.cli.events_io import invoke_handler
from rebalance_executor.cli.local_aws import LocalResources
from rebalance_executor.composition import build_dependencies
from rebalance_executor.settings import load_settings
from tests.fixtures.sim import SimFactory

EVENTS = Path(__file__).resolve().parents[3] / "events"
KEY_ID = "SCHEDTESTKEY1"
SECRET = "SCHEDTESTSECRET"


@dataclass
class ScheduleRig:
    sim: RunningSimulator
    resources: LocalResources

    def allocation(
        self, name: str = "scheduled_allocation.json", *, minutes_ago: float = 0, **changes: Any
    ) -> dict[str, Any]:
        """A sample payload whose ``scheduled_time`` is the simulator's now (minus a delay)."""
        event: dict[str, Any] = json.loads((EVENTS / name).read_text())
        fresh = copy.deepcopy(event)
        body = fresh.get("detail", fresh)
        tick = self.sim.clock.now() - timedelta(minutes=minutes_ago)
        body["scheduled_time"] = tick.isoformat().replace("+00:00", "Z")
        body.update(changes)
        return fresh

    def invoke(self, event: dict[str, Any], timeout_s: float = 60.0) -> dict[str, Any]:
        return invoke_handler(event, timeout_s=timeout_s, function_name="schedule-test")

    def set_account(self, cash: str, positions: dict[str, str]) -> None:
        self.sim.control.set_account(
            KEY_ID, cash=Decimal(cash), positions={s: Decimal(q) for s, q in positions.items()}
        )

    def mid(self, symbol: str) -> Decimal:
        return self.sim.engine.markets[symbol].quote.mid

    def weights(self) -> dict[str, Decimal]:
        """Current weights read through the real alpaca-py client, valued at the mid."""
        client = TradingClient(KEY_ID, SECRET, paper=True, url_override=self.sim.base_url)
        account = client.get_account()
        positions = client.get_all_positions()
        assert isinstance(account, TradeAccount)
        assert isinstance(positions, list)
        cash = Decimal(str(account.cash))
        values: dict[str, Decimal] = {}
        for position in positions:
            assert isinstance(position, Position)
            values[position.symbol] = Decimal(str(position.qty)) * self.mid(position.symbol)
        equity = cash + sum(values.values(), Decimal(0))
        return {symbol: value / equity for symbol, value in values.items()}

    def requests(self) -> int:
        return self.sim.control.total_requests()

    def order_posts(self) -> int:
        return self.sim.control.request_counts().get("POST /v2/orders", 0)

    def now(self) -> datetime:
        return self.sim.clock.now()


@pytest.fixture
def schedule_rig(
    aws_env: LocalResources, sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ScheduleRig]:
    sim = sim_factory(time_scale=20.0, keys={KEY_ID: SECRET})
    monkeypatch.setenv("ALPACA_API_KEY", KEY_ID)
    monkeypatch.setenv("ALPACA_SECRET_KEY", SECRET)
    monkeypatch.setenv("ALPACA_BASE_URL", sim.base_url)
    monkeypatch.setenv("ALPACA_PAPER", "true")
    monkeypatch.setenv("DEADLINE_RESERVE_S", "8")
    monkeypatch.setenv("EXECUTION_POLICY", "market")
    monkeypatch.delenv("ALPACA_SECRET_ID", raising=False)
    handler.reset_dependencies(build_dependencies(load_settings(), clock=sim.clock))
    yield ScheduleRig(sim=sim, resources=aws_env)
    handler.reset_dependencies()
