"""Issue 17: the executor follows the simulator's real websockets through alpaca-py's
``TradingStream`` / ``StockDataStream``; each stream fault the simulator can play (disconnect,
silence, duplicated, reordered, lagging frames, an event for an order it never had) leaves the
result equal to the broker's fills with no over-fill (the autouse SPEC §4.10 ledger checks every
run) and is seen in the result's ``streams`` counts."""

from __future__ import annotations

import pytest

from alpaca_sim.faults import FaultSpec
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ExecutionResult, ExecutionStatus, StreamReport
from tests.fixtures.sim import SimFactory
from tests.integration.executor.harness import Harness, item

TRADING = "WS /stream"
ANCHOR = ExecutionConfig(policy=ExecutionPolicy.ANCHOR)
LISTING = "GET /v2/orders"


@pytest.fixture
def h(sim_factory: SimFactory) -> Harness:
    harness = Harness.start(sim_factory(seed=17, time_scale=20))
    harness.account("20000", {"GLD": "20"})
    return harness


def _run(h: Harness, plan_id: str) -> ExecutionResult:
    plan = h.plan(
        item("GLD", Action.SELL, "-1500"),
        item("SPY", Action.BUY, "3000"),
        item("BND", Action.BUY, "2000"),
        plan_id=plan_id,
    )
    return h.run(plan, ANCHOR, window_s=60, streams=h.streams())


def _assert_result_is_the_brokers(h: Harness, result: ExecutionResult) -> None:
    for it in result.items:
        side = "buy" if it.action is Action.BUY else "sell"
        assert it.filled_qty == h.filled(it.symbol, side)[0], it.symbol
        assert it.filled_qty <= it.planned_qty
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason


def _report(result: ExecutionResult) -> StreamReport:
    assert result.streams is not None
    return result.streams


def test_a_healthy_stream_carries_the_updates_and_saves_listings(
    h: Harness, sim_factory: SimFactory
) -> None:
    result = _run(h, "streams-healthy")

    _assert_result_is_the_brokers(h, result)
    report = _report(result)
    assert report.updates > 0
    assert report.quote_updates > 0
    assert report.down_ticks == 0
    polled = Harness.start(sim_factory(seed=17, time_scale=20))
    polled.account("20000", {"GLD": "20"})
    plan = polled.plan(
        item("GLD", Action.SELL, "-1500"),
        item("SPY", Action.BUY, "3000"),
        item("BND", Action.BUY, "2000"),
        plan_id="streams-polled",
    )
    without = polled.run(plan, ANCHOR, window_s=60)
    listings = h.sim.control.request_counts().get(LISTING, 0)
    assert without.status is ExecutionStatus.SUCCEEDED
    assert listings < polled.sim.control.request_counts().get(LISTING, 0)


def test_a_disconnect_is_a_gap_the_executor_lists_around(h: Harness) -> None:
    h.sim.control.inject_fault(FaultSpec(endpoint=TRADING, kind="stream_disconnect", count=1))

    result = _run(h, "streams-disconnect")

    _assert_result_is_the_brokers(h, result)
    report = _report(result)
    assert report.gaps + report.down_ticks + report.silent > 0


def test_a_silent_stream_falls_back_to_listings(h: Harness) -> None:
    h.sim.control.inject_fault(FaultSpec(endpoint=TRADING, kind="stream_silent", count=1))

    result = _run(h, "streams-silent")

    _assert_result_is_the_brokers(h, result)
    report = _report(result)
    assert report.silent > 0
    assert report.confirm_listings + report.down_ticks > 0


@pytest.mark.parametrize("kind", ["stream_duplicate", "stream_reorder"])
def test_duplicated_and_reordered_events_never_double_count(h: Harness, kind: str) -> None:
    h.sim.control.inject_fault(FaultSpec(endpoint=TRADING, kind=kind, probability=1.0))

    result = _run(h, f"streams-{kind}")

    _assert_result_is_the_brokers(h, result)
    assert _report(result).updates > 0


def test_an_event_for_an_order_the_broker_never_had_is_never_counted(h: Harness) -> None:
    h.sim.control.inject_fault(FaultSpec(endpoint=TRADING, kind="stream_unknown_order", count=2))

    result = _run(h, "streams-unknown")

    _assert_result_is_the_brokers(h, result)
    known = {o["id"] for o in h.orders()}
    assert all(o.broker_order_id in known for it in result.items for o in it.orders)


def test_lagging_frames_are_confirmed_by_listings(h: Harness) -> None:
    fault = FaultSpec(endpoint=TRADING, kind="stream_lag", latency_s=5.0, count=3)
    h.sim.control.inject_fault(fault)

    result = _run(h, "streams-lag")

    _assert_result_is_the_brokers(h, result)
    report = _report(result)
    assert report.lagging + report.silent > 0
    assert report.confirm_listings > 0
