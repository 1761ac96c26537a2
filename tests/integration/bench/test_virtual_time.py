"""The benchmark's discrete-event clock: simulated time moves only when the executor sleeps, so a
run is a pure function of (scenario, seed, policy) and can be reproduced exactly."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alpaca_sim.testing import running_simulator
from rebalance_executor.bench.runner import RunSpec, run_one
from rebalance_executor.bench.scenario import BenchScenario
from rebalance_executor.bench.virtual_time import SteppedClock

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
