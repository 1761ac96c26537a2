"""Scheduled allocations through the real handler: simulator (real alpaca-py) and moto."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.models import Position, TradeAccount

from rebalance_executor.cli.local_aws import LocalResources
from tests.fixtures.handler import HandlerSim, SimHandlerRig, install_dependencies

EVENTS = Path(__file__).resolve().parents[3] / "events"
KEY_ID = "SCHEDTESTKEY1"
SECRET = "SCHEDTESTSECRET"


@dataclass
class ScheduleRig(SimHandlerRig):
    function_name: ClassVar[str] = "schedule-test"

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

    def now(self) -> datetime:
        return self.sim.clock.now()


@pytest.fixture
def schedule_rig(aws_env: LocalResources, handler_sim: HandlerSim) -> ScheduleRig:
    env = {"DEADLINE_RESERVE_S": "8", "EXECUTION_POLICY": "market"}
    sim = handler_sim(KEY_ID, SECRET, time_scale=20.0, env=env)
    install_dependencies(sim)
    return ScheduleRig(sim=sim, resources=aws_env)
