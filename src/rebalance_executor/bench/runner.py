"""Run one plan through the FULL handler path per (scenario, seed, policy) and measure it.

Each run gets a fresh simulator (same seed and simulated start time → the same quote path for
every policy), a fresh moto account (``mock_aws``), a fresh Alpaca account (unique API key), and
a countdown context whose budget is the scenario's, counted on the simulator's clock. What is
measured comes from the simulator's ground truth (fills, orders, request log, quote path), not
from the executor's own report; the executor's TCA is kept alongside as a cross-check.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import io
import logging
import multiprocessing
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import boto3
import botocore.loaders
import botocore.session
from moto import mock_aws

from alpaca_sim.testing import RunningSimulator, running_simulator
from rebalance_executor import handler
from rebalance_executor.adapters import secrets
from rebalance_executor.adapters.alpaca_broker import AlpacaBroker
from rebalance_executor.adapters.alpaca_streams import AlpacaStreams
from rebalance_executor.adapters.s3_results import parse_s3_uri
from rebalance_executor.bench.invariants import check_execution, records_from_sim
from rebalance_executor.bench.metrics import (
    POLL_ENDPOINTS,
    ItemMeasure,
    RunRecord,
    measure_items,
)
from rebalance_executor.bench.reaction import mean_reaction_s
from rebalance_executor.bench.scenario import BenchScenario, plan_event
from rebalance_executor.bench.virtual_time import SteppedClock
from rebalance_executor.cli.local_aws import REGION, LocalResources, create_resources
from rebalance_executor.cli.local_env import logger_levels, patched_environ
from rebalance_executor.composition import Dependencies, StreamsFactory, build_dependencies
from rebalance_executor.domain.broker import BrokerPort
from rebalance_executor.domain.clock import Deadline
from rebalance_executor.domain.config import SmartSchedule
from rebalance_executor.domain.result import ExecutionResult, Reason
from rebalance_executor.domain.streams import StreamPort
from rebalance_executor.lambda_context import CountdownContext
from rebalance_executor.observability import PACKAGE_LOGGER, logger
from rebalance_executor.settings import DataFeed, load_settings

#: Simulated start of every run: a fixed instant, so the step-indexed quote path is identical.
BENCH_START: Final = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
POLICIES: Final = ("market", "anchor", "smart")
#: Market-data feeds a run can read (ALPACA_DATA_FEED). The bench reads ``sip``, the NBBO the
#: orders fill against: it ranks policies; iex's data quality is a separate handicap, measured
#: with ``--feed iex`` (the product's own default stays iex, SPEC §3.4).
FEEDS: Final = (DataFeed.IEX.value, DataFeed.SIP.value)
DEFAULT_FEED: Final = DataFeed.SIP.value
#: Simulated seconds after the simulator's start at which the handler is invoked.
START_OFFSET_S: Final = 5.0
_SECRET: Final = "BENCHSECRET0001"
# Real seconds a settle waits for stream frames: just over the simulator's 50 ms market-data
# publishing period, then until 10 ms pass with nothing new.
_STREAM_PUBLISH_WAIT_S: Final = 0.06
_STREAM_QUIET_S: Final = 0.01
_FINGERPRINT_TICKS: Final = 200
_ENV_CLEARED: Final = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "ALPACA_SECRET_ID")
# One botocore model loader per process: it caches the parsed service models (see _boto3_session).
_MODEL_LOADER: Final = botocore.loaders.create_loader()


@dataclass(frozen=True)
class RunSpec:
    """One unit of work (picklable: it crosses to worker processes)."""

    scenario: BenchScenario
    policy: str
    seed: int
    smart: SmartSchedule | None = None
    # extra handler environment for this run only (tuning sweeps), applied over the scenario's
    env: tuple[tuple[str, str], ...] = ()
    feed: str = DEFAULT_FEED  # the executor's ALPACA_DATA_FEED
    streams: bool = True  # the executor's STREAMS_ENABLED (bench --streams on|off)


def run_one(spec: RunSpec) -> RunRecord:
    """Execute the scenario's plan once with ``spec.policy`` and measure it.

    Raises whatever the handler raises (a benchmark run must not hide a crash), SettingsError
    for an invalid ``env`` in the scenario, ResultReadError when the stored result is missing.
    """
    scenario = spec.scenario
    api_key = f"BENCH{uuid.uuid4().hex[:16].upper()}"
    started = time.monotonic()
    with (
        _quiet_logs(),
        running_simulator(
            seed=spec.seed,
            scenario=scenario.market,
            time_scale=scenario.time_scale,
            start=BENCH_START,
            step_s=scenario.step_s,
            wait_for_stop=False,  # every run has its own simulator: let shutdowns overlap
        ) as sim,
        _clock_paused(sim),
        patched_environ(_environment(scenario, spec, api_key, sim.base_url)),
        mock_aws(),
    ):
        _boto3_session()
        create_resources(LocalResources())
        secrets.clear_cache()
        deps = _dependencies(sim, spec.smart)
        handler.reset_dependencies(deps)
        # Every run starts trading at the same simulated instant, whatever the set-up cost; the
        # clock stays paused: only the executor's sleeps move it (SteppedClock).
        sim.control.advance_time(max(0.0, START_OFFSET_S - sim.clock.monotonic()))
        try:
            result, response = _invoke(scenario, spec, sim, deps)
        finally:
            handler.reset_dependencies()
        items = _measure(scenario, sim, api_key, result)
        violations = check_execution(
            None,
            result,
            records_from_sim(sim.control, api_key),
            cash_reserve=deps.settings.cash_reserve,
            allow_margin=deps.settings.allow_margin,
        )
        return RunRecord(
            scenario=scenario.name,
            policy=spec.policy,
            seed=spec.seed,
            status=str(response.get("status")),
            items=items,
            wall_s=(result.finished_at - result.started_at).total_seconds(),
            requests_total=sim.control.total_requests(),
            peak_requests_per_min=max(sim.control.requests_by_minute().values(), default=0),
            orders_total=len(sim.control.orders(api_key)),
            executor_slippage_bps=result.tca.slippage_bps if result.tca else None,
            fingerprint=_fingerprint(sim, scenario.items[0].symbol),
            real_s=time.monotonic() - started,
            poll_requests=sum(sim.control.request_counts().get(e, 0) for e in POLL_ENDPOINTS),
            violations=tuple(str(v) for v in violations),
            no_valid_quote=sum(1 for i in result.items if i.reason is Reason.NO_VALID_QUOTE),
            reaction_s=mean_reaction_s(sim.control.orders(api_key)),
        )


def run_many(
    specs: Sequence[RunSpec], jobs: int = 1, progress: Callable[[RunRecord], None] | None = None
) -> list[RunRecord]:
    """Run every spec, ``jobs`` at a time in spawned worker processes (1 = in this process).

    Results come back in ``specs`` order. Raises the first run's exception.
    """
    if jobs <= 1:
        records = []
        for spec in specs:
            records.append(run_one(spec))
            if progress is not None:
                progress(records[-1])
        return records
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_freeze_imported_heap
    ) as pool:
        futures = [pool.submit(run_one, spec) for spec in specs]
        out = []
        for future in futures:
            out.append(future.result())
            if progress is not None:
                progress(out[-1])
        return out


def specs_for(
    scenario: BenchScenario,
    seeds: Sequence[int],
    policies: Sequence[str],
    smart: SmartSchedule | None = None,
    feed: str = DEFAULT_FEED,
    *,
    streams: bool = True,
) -> list[RunSpec]:
    """Every (seed, policy) pair of a scenario, seed-major (identical markets side by side)."""
    return [
        RunSpec(scenario, p, s, smart, feed=feed, streams=streams) for s in seeds for p in policies
    ]


def _invoke(
    scenario: BenchScenario, spec: RunSpec, sim: RunningSimulator, deps: Dependencies
) -> tuple[ExecutionResult, dict[str, Any]]:
    """Call the real Lambda handler; returns the stored result and the handler's summary."""
    plan_id = f"bench-{scenario.name}-{spec.policy}-{spec.seed}"
    event = plan_event(scenario, plan_id, sim.clock.now())
    context = CountdownContext(
        timeout_s=scenario.budget_s,
        function_name="rebalance-bench",
        monotonic=sim.clock.monotonic,
    )
    with redirect_stdout(io.StringIO()):  # EMF metric documents
        response: dict[str, Any] = handler.lambda_handler(event, context)
    document = deps.results.read_json(*parse_s3_uri(str(response.get("result_uri"))))
    return ExecutionResult.model_validate(document), response


def _dependencies(sim: RunningSimulator, smart: SmartSchedule | None) -> Dependencies:
    brokers: list[AlpacaBroker] = []
    streams: list[AlpacaStreams] = []
    clock = SteppedClock(
        sim, busy=lambda: any(b.in_flight for b in brokers), settle=_settler(streams)
    )
    deps = build_dependencies(load_settings(), clock=clock)
    if deps.streams_factory is not None:
        deps = dataclasses.replace(deps, streams_factory=_tracked(deps.streams_factory, streams))
    create = deps.broker_factory

    def tracked(deadline: Deadline) -> BrokerPort:
        broker = create(deadline)
        if isinstance(broker, AlpacaBroker):
            brokers.append(broker)
        return broker

    deps = dataclasses.replace(deps, broker_factory=tracked)
    if smart is None:
        return deps
    config = deps.execution_config.model_copy(update={"smart": smart})
    return dataclasses.replace(deps, execution_config=config)


def _tracked(create: StreamsFactory, streams: list[AlpacaStreams]) -> StreamsFactory:
    def tracked() -> StreamPort:
        port = create()
        if isinstance(port, AlpacaStreams):
            streams.append(port)
        return port

    return tracked


def _settler(streams: list[AlpacaStreams]) -> Callable[[], Awaitable[None]]:
    """After an advance: wait (real time) until the streams' frames of it have arrived — one
    publishing period of the simulator's market-data stream, then until nothing more comes."""

    async def settle() -> None:
        if not streams:
            return
        await asyncio.sleep(_STREAM_PUBLISH_WAIT_S)
        seen = sum(s.received for s in streams)
        while True:
            await asyncio.sleep(_STREAM_QUIET_S)
            now = sum(s.received for s in streams)
            if now == seen:
                return
            seen = now

    return settle


def _measure(
    scenario: BenchScenario, sim: RunningSimulator, api_key: str, result: ExecutionResult
) -> tuple[ItemMeasure, ...]:
    symbols = {i.symbol for i in scenario.items}
    paths = {s: sim.control.quote_path(s) for s in symbols}
    return measure_items(
        scenario.items,
        result,
        orders=sim.control.orders(api_key),
        fills=sim.control.fills(api_key),
        quote_paths=paths,
        decision_at=result.started_at,
    )


def _fingerprint(sim: RunningSimulator, symbol: str) -> tuple[tuple[int, str, str], ...]:
    """The first quote ticks of one symbol: runs of one seed must agree on their common prefix."""
    path = sim.control.quote_path(symbol)[:_FINGERPRINT_TICKS]
    return tuple((q.step, str(q.bid), str(q.ask)) for q in path)


def _environment(
    scenario: BenchScenario, spec: RunSpec, api_key: str, base_url: str
) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "ALPACA_API_KEY": api_key,
        "ALPACA_SECRET_KEY": _SECRET,
        "ALPACA_PAPER": "true",
        "ALPACA_BASE_URL": base_url,
        "EXECUTION_POLICY": spec.policy,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        **LocalResources().environment(),
        **dict.fromkeys(_ENV_CLEARED),
    }
    env.update(scenario.env)
    env["ALPACA_DATA_FEED"] = spec.feed  # the run's feed, whatever the scenario file says
    env["STREAMS_ENABLED"] = "true" if spec.streams else "false"
    env.update(dict(spec.env))
    return env


@contextmanager
def _clock_paused(sim: RunningSimulator) -> Iterator[None]:
    """Stop real time from moving simulated time, for the whole run (see SteppedClock)."""
    sim.control.pause_clock()
    yield


def _boto3_session() -> None:
    """A fresh default boto3 session (as ``mock_aws`` wants; it restores the old one on exit)
    over this process's model loader, so each run's clients skip re-reading and re-parsing the
    JSON service models (~0.1 s a run). Clients, credentials and endpoints stay per run."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _MODEL_LOADER)
    boto3.setup_default_session(botocore_session=core)


def _freeze_imported_heap() -> None:
    """Worker start: move the ~230k objects of the imported libraries out of the collector's
    sight. Otherwise every full collection re-scans them (0.2-0.4 s, every few runs); only
    garbage-collection timing changes, never a result."""
    gc.collect()
    gc.freeze()


def _quiet_logs() -> AbstractContextManager[None]:
    """Only errors from the executor's loggers while benchmarking (warnings are per-item noise)."""
    names = (PACKAGE_LOGGER, logger.name, "werkzeug", "botocore", "aws_lambda_powertools")
    return logger_levels(dict.fromkeys(names, logging.ERROR))


def default_jobs() -> int:
    """Worker processes: one per core, at most 2 (the SPEC's reference machine)."""
    return max(1, min(2, os.cpu_count() or 1))
