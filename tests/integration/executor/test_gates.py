"""Safety gates against the simulator: nothing reaches the broker unless the plan may trade."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from alpaca_sim.faults import FaultSpec
from rebalance_executor.domain.broker import BrokerOrder, BrokerUnavailableError, OrderRequest
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import Action, RebalancePlan
from rebalance_executor.domain.result import ExecutionStatus, ItemOutcome
from tests.fixtures.sim import SimFactory
from tests.integration.executor.harness import MARKET, Harness, item


@pytest.fixture
def h(sim_factory: SimFactory) -> Harness:
    harness = Harness.start(sim_factory(seed=5, time_scale=20))
    harness.account("10000", {"TLT": "20"})
    return harness


def simple_plan(h: Harness) -> RebalancePlan:
    return h.plan(item("TLT", Action.SELL, "-920"), item("GLD", Action.BUY, "2000"))


def closed(h: Harness) -> ExecutionConfig:
    h.sim.control.set_market_open(False)
    return MARKET


def blocked(h: Harness) -> ExecutionConfig:
    h.sim.control.set_account(h.key, trading_blocked=True)
    return MARKET


def dry_run(h: Harness) -> ExecutionConfig:
    return MARKET.model_copy(update={"dry_run": True})


def kill(h: Harness) -> ExecutionConfig:
    return MARKET.model_copy(update={"kill_switch": True})


def order_cap(h: Harness) -> ExecutionConfig:
    return MARKET.model_copy(update={"max_order_notional": Decimal(1500)})


def equity_cap(h: Harness) -> ExecutionConfig:
    return MARKET.model_copy(update={"max_plan_equity_fraction": Decimal("0.2")})


@pytest.mark.parametrize(
    ("setup", "status", "fragment"),
    [
        (closed, ExecutionStatus.SKIPPED, "closed"),
        (blocked, ExecutionStatus.REJECTED, "trading_blocked"),
        (dry_run, ExecutionStatus.DRY_RUN, "dry run"),
        (kill, ExecutionStatus.REJECTED, "kill switch"),
        (order_cap, ExecutionStatus.REJECTED, "MAX_ORDER_NOTIONAL"),
        (equity_cap, ExecutionStatus.REJECTED, "MAX_PLAN_EQUITY_FRACTION"),
    ],
)
def test_gate_sends_nothing(
    h: Harness, setup: Callable[[Harness], ExecutionConfig], status: ExecutionStatus, fragment: str
) -> None:
    result = h.run(simple_plan(h), setup(h))
    assert result.status is status
    assert result.reason is not None
    assert fragment in result.reason
    assert h.orders() == []
    if status is ExecutionStatus.DRY_RUN:
        gld = result.items[1]
        assert gld.outcome is ItemOutcome.DRY_RUN
        assert gld.planned_qty > 0


def test_broker_down_in_preflight_raises_for_a_lambda_retry(h: Harness) -> None:
    h.sim.control.inject_fault(FaultSpec(endpoint="GET /v2/positions", kind="http_5xx"))
    with pytest.raises(BrokerUnavailableError):
        h.run(simple_plan(h))
    assert h.orders() == []


class CrashError(RuntimeError):
    """Stands in for the Lambda dying."""


class CrashAfterFirstSubmit:
    """Our port around the real adapter: the process 'dies' once one submission has landed."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._landed: asyncio.Event | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        if self._landed is not None:
            await self._landed.wait()
            raise CrashError("executor killed")
        self._landed = asyncio.Event()
        order: BrokerOrder = await self._inner.submit_order(request)
        self._landed.set()
        return order


def ts(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def test_rerun_cancels_the_stale_live_order_before_working_the_remainder(h: Harness) -> None:
    h.sim.control.halt("GLD")  # orders rest: the crashed attempt leaves a live order behind
    config = MARKET.model_copy(update={"quote_max_age_s": 3600.0})
    plan = h.plan(item("GLD", Action.BUY, "2000"), item("BND", Action.BUY, "1000"), plan_id="stale")
    with pytest.raises(CrashError):
        h.run(plan, config, broker=CrashAfterFirstSubmit(h.broker()))
    (stale,) = h.orders()
    assert stale["status"] in {"pending_new", "new", "accepted"}  # live, acknowledged or not
    result = h.run(plan, config, window_s=15.0)
    gld = [o for o in h.orders() if o["symbol"] == "GLD"]
    assert [o["client_order_id"][-2:] for o in gld] == ["-0", "-1"]
    assert gld[0]["status"] == "canceled"
    assert ts(gld[1]["submitted_at"]) >= ts(gld[0]["canceled_at"])  # never two live at once
    assert all(o["status"] in {"canceled", "filled"} for o in h.orders())
    assert result.items[1].outcome is ItemOutcome.FILLED
