"""The benchmark's discrete-event clock: simulated time moves only when the executor sleeps, so a
run is a pure function of (scenario, seed, policy) and can be reproduced exactly."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alpaca_sim.testing import running_simulator
from rebalance_executor.bench.runner import RunSpec, run_many, run_one
from rebalance_executor.bench.scenario import BenchScenario
from rebalance_executor.bench.virtual_time import WAKE_SLICE_S, SteppedClock

from .test_bench_smoke import TINY


def test_sleep_advances_simulated_time_exactly_and_real_time_does_not() -> None:
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    with running_simulator(seed=1, start=start, time_scale=1000) as sim:
        sim.control.pause_clock()
        clock = SteppedClock(sim)
        before_step = sim.control.quote_path("SPY")[-1].step
        t0 = clock.monotonic()
        asyncio.run(clock.sleep(7.5))
        assert clock.monotonic() == pytest.approx(t0 + 7.5)
        asyncio.run(clock.sleep(0))
        asyncio.run(clock.sleep(-3))
        assert clock.monotonic() == pytest.approx(t0 + 7.5)
        # the simulator replayed the steps up to the new time (1 s steps by default)
        assert sim.control.quote_path("SPY")[-1].step >= before_step + 7
        assert clock.now() == sim.clock.now()


@pytest.mark.parametrize("policy", ["market", "smart"])
def test_two_runs_of_one_seed_agree_exactly(tmp_path: Path, policy: str) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    spec = RunSpec(scenario=BenchScenario.load(path), policy=policy, seed=11)
    first, second = run_one(spec), run_one(spec)
    assert first.items == second.items  # fills, prices, arrival mids, order counts
    assert first.slippage_bps == second.slippage_bps
    assert (first.requests_total, first.orders_total, first.wall_s) == (
        second.requests_total,
        second.orders_total,
        second.wall_s,
    )
    assert first.fill_rate > 0


def test_worker_processes_reproduce_in_process_runs(tmp_path: Path) -> None:
    # workers share a model loader across runs, freeze their imported heap and let simulator
    # shutdowns overlap the next run: none of that may change a figure
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    scenario = BenchScenario.load(path)
    specs = [RunSpec(scenario, policy, seed) for seed in (5, 6) for policy in ("market", "smart")]
    in_process = run_many(specs, jobs=1)
    in_workers = run_many(specs, jobs=2)
    assert [dataclasses.replace(r, real_s=0.0) for r in in_workers] == [
        dataclasses.replace(r, real_s=0.0) for r in in_process
    ]
    assert [(r.policy, r.seed) for r in in_workers] == [(s.policy, s.seed) for s in specs]


def test_sleep_waits_for_in_flight_calls_before_moving_time() -> None:
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    with running_simulator(seed=1, start=start) as sim:
        sim.control.pause_clock()
        answers = iter([True, True, False])
        seen: list[float] = []

        def busy() -> bool:
            seen.append(sim.clock.monotonic())
            return next(answers)

        clock = SteppedClock(sim, busy=busy)
        t0 = clock.monotonic()
        asyncio.run(clock.sleep(2.0))
        assert seen == [t0, t0, t0]  # time did not move while calls were in flight
        assert clock.monotonic() == pytest.approx(t0 + 2.0)


def test_a_stream_update_ends_a_sleep_after_its_slice() -> None:
    """sleep_or_wake advances in WAKE_SLICE_S slices and stops after the one in which news
    arrived; without news it sleeps the whole time."""
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    with running_simulator(seed=1, start=start, time_scale=1000) as sim:
        sim.control.pause_clock()
        news = asyncio.Event()
        settled: list[float] = []

        async def settle() -> None:
            settled.append(sim.clock.monotonic())
            if len(settled) == 3:
                news.set()  # an update arrives while the third slice settles

        clock = SteppedClock(sim, settle=settle)
        t0 = clock.monotonic()
        asyncio.run(clock.sleep_or_wake(30.0, news))
        assert clock.monotonic() == pytest.approx(t0 + 3 * WAKE_SLICE_S)
        quiet = asyncio.Event()
        asyncio.run(clock.sleep_or_wake(4.0, quiet))
        assert clock.monotonic() == pytest.approx(t0 + 3 * WAKE_SLICE_S + 4.0)
