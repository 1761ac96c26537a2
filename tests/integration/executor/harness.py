"""Runs execute_plan with the real AlpacaBroker (real alpaca-py) against the simulator."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from alpaca_sim.testing import RunningSimulator
from rebalance_executor.adapters.alpaca_broker import AlpacaBroker
from rebalance_executor.adapters.alpaca_streams import AlpacaStreams, stream_urls
from rebalance_executor.domain.broker import BrokerPort
from rebalance_executor.domain.clock import Clock, Deadline
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy
from rebalance_executor.domain.plan import Action, PlanItem, RebalancePlan
from rebalance_executor.domain.result import ExecutionResult
from rebalance_executor.domain.streams import StreamPort
from rebalance_executor.executor import KillSwitch, execute_plan
from tests.fixtures.invariants import record_execution

MARKET = ExecutionConfig(policy=ExecutionPolicy.MARKET)
_keys = itertools.count()


def item(symbol: str, action: Action, amount: str, target_weight: str | None = None) -> PlanItem:
    return PlanItem(
        symbol=symbol,
        action=action,
        trade_amount=Decimal(amount),
        target_weight=Decimal(target_weight) if target_weight is not None else None,
    )


class CountingClock:
    """The simulator's clock, counting the executor's sleeps (its polling ticks)."""

    def __init__(self, inner: Clock) -> None:
        self._inner = inner
        self.sleeps = 0

    def now(self) -> datetime:
        return self._inner.now()

    def monotonic(self) -> float:
        return self._inner.monotonic()

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        await self._inner.sleep(seconds)


@dataclass
class Harness:
    sim: RunningSimulator
    key: str
    # the market-data feed the executor reads: iex (the product default, one venue's quotes) or
    # sip (the NBBO orders fill against; for tests of the policies' physics)
    feed: str = "iex"

    @classmethod
    def start(cls, sim: RunningSimulator, feed: str = "iex") -> Harness:
        return cls(sim, f"ITKEY{next(_keys):04d}", feed)

    def account(self, cash: str, positions: Mapping[str, str] | None = None) -> None:
        self.sim.control.set_account(
            self.key,
            cash=Decimal(cash),
            positions={s: Decimal(q) for s, q in (positions or {}).items()},
        )

    def broker(self, deadline: Deadline | None = None) -> AlpacaBroker:
        return AlpacaBroker.create(
            api_key=self.key,
            secret_key="secret",
            paper=True,
            base_url=self.sim.base_url,
            timeout_s=2.0,
            max_requests_per_min=6000,
            clock=self.sim.clock,
            deadline=deadline,
            data_feed=self.feed,
        )

    def streams(self) -> AlpacaStreams:
        """The real alpaca-py streams against the simulator's websockets (URLs as production
        derives them from ALPACA_BASE_URL)."""
        trading_url, data_url = stream_urls(self.sim.base_url, self.feed)
        return AlpacaStreams(
            api_key=self.key,
            secret_key="secret",
            paper=True,
            trading_url=trading_url,
            data_url=data_url,
            feed=self.feed,
            clock=self.sim.clock,
        )

    def plan(self, *items: PlanItem, plan_id: str = "it-plan") -> RebalancePlan:
        return RebalancePlan(plan_id=plan_id, timestamp=self.sim.clock.now(), items=items)

    def deadline(self, window_s: float = 120.0, reserve_s: float = 20.0) -> Deadline:
        return Deadline.from_remaining(self.sim.clock, window_s + reserve_s + 1, reserve_s)

    def run(
        self,
        plan: RebalancePlan,
        config: ExecutionConfig = MARKET,
        *,
        window_s: float = 120.0,
        broker: BrokerPort | None = None,
        kill: KillSwitch | None = None,
        clock: Clock | None = None,
        streams: StreamPort | None = None,
    ) -> ExecutionResult:
        deadline = self.deadline(window_s)
        port: BrokerPort = broker if broker is not None else self.broker(deadline)
        result: ExecutionResult | None = None
        try:
            result = asyncio.run(
                execute_plan(
                    plan,
                    broker=port,
                    clock=clock or self.sim.clock,
                    deadline=deadline,
                    config=config,
                    kill_switch=kill,
                    streams=streams,
                )
            )
        finally:
            # SPEC §4.10 is checked on this run when the simulator stops.
            record_execution(
                plan, result, cash_reserve=config.cash_reserve, allow_margin=config.allow_margin
            )
        return result

    def positions(self) -> dict[str, Decimal]:
        return self.sim.control.account_state(self.key).positions

    def orders(self) -> list[dict[str, Any]]:
        return self.sim.control.orders(self.key)

    def filled(self, symbol: str, side: str) -> tuple[Decimal, Decimal]:
        """(qty, notional) the simulator filled for this account, symbol and side."""
        fills = [
            f for f in self.sim.control.fills(self.key) if f.symbol == symbol and f.side == side
        ]
        return (
            sum((f.qty for f in fills), Decimal(0)),
            sum((f.qty * f.price for f in fills), Decimal(0)),
        )
