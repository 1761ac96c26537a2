"""Slow and hung AWS dependencies never carry an invocation past its Lambda timeout (issue 15.9).

Real boto3 against a moto *server* behind :class:`LatencyProxy`, so botocore's own socket
timeouts and retry mode are what bound each call; the real handler and alpaca-py against the
simulator at real time (time_scale 1), invoked with a wall-clock context of TIMEOUT_S. When an
invocation gives up it raises (SPEC §4.8): the redelivery reconciles and records everything.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyPersistenceLayerError,
)
from botocore.exceptions import BotoCoreError

from rebalance_executor import handler
from rebalance_executor.adapters.s3_results import ResultWriteError
from rebalance_executor.cli.local_aws import LocalResources, create_resources
from tests.fixtures.handler import apply_env
from tests.fixtures.sim import SimFactory
from tests.integration.faults.brokers import InterceptingBroker
from tests.integration.faults.harness import KEY_ID, SECRET, Rig
from tests.integration.faults.latency_proxy import LatencyProxy

TIMEOUT_S = 20.0  # the shortest Lambda timeout the SPEC supports (§4.7)
SLOW_RESPONSE_S = 5.0
ITEMS = [("SPY", "BUY", "6000"), ("BND", "BUY", "3000")]


@pytest.fixture
def proxy(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LatencyProxy]:
    with LatencyProxy(moto_server) as the_proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", the_proxy.url)
        yield the_proxy


@pytest.fixture
def slow_rig(
    proxy: LatencyProxy,
    moto_server: str,
    sim_factory: SimFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Rig]:
    # moto's server keeps its state process-wide: fresh names per test.
    suffix = uuid.uuid4().hex[:8]
    resources = LocalResources(
        bucket=f"results-{suffix}",
        table=f"idempotency-{suffix}",
        lock_table=f"locks-{suffix}",
        bus=f"bus-{suffix}",
    )
    create_resources(resources, endpoint_url=moto_server)
    sim = sim_factory(seed=7, time_scale=1.0, keys={KEY_ID: SECRET})
    env = {
        **resources.environment(),
        "ALPACA_API_KEY": KEY_ID,
        "ALPACA_SECRET_KEY": SECRET,
        "ALPACA_SECRET_ID": None,
        "ALPACA_BASE_URL": sim.base_url,
        "ALPACA_PAPER": "true",
        "DEADLINE_RESERVE_S": "8",
        "EXECUTION_POLICY": "market",
    }
    apply_env(monkeypatch, env)
    the_rig = Rig(sim=sim, resources=resources, monkeypatch=monkeypatch)
    the_rig.rebuild()
    yield the_rig
    handler.reset_dependencies()


def _timed_invoke_raises(rig: Rig, event: dict[str, object]) -> tuple[float, BaseException]:
    started = time.monotonic()
    with pytest.raises((ResultWriteError, IdempotencyPersistenceLayerError, BotoCoreError)) as info:
        rig.invoke(event, timeout_s=TIMEOUT_S)
    return time.monotonic() - started, info.value


def test_hung_dynamodb_and_s3_before_trading_raise_in_time_and_send_nothing(
    slow_rig: Rig, proxy: LatencyProxy
) -> None:
    event = slow_rig.event(ITEMS)
    proxy.black_hole = True
    elapsed, raised = _timed_invoke_raises(slow_rig, event)
    assert elapsed < TIMEOUT_S - 1, f"{type(raised).__name__} after {elapsed:.1f}s"
    assert isinstance(raised, IdempotencyPersistenceLayerError)  # the claim could not be made
    assert slow_rig.sim.control.total_requests() == 0

    proxy.heal()
    assert slow_rig.invoke(event, timeout_s=TIMEOUT_S)["status"] == "SUCCEEDED"
    slow_rig.assert_invariant(event["detail"]["plan_id"])


def test_cold_start_against_a_hung_dynamodb_fails_fast(slow_rig: Rig, proxy: LatencyProxy) -> None:
    proxy.black_hole = True
    started = time.monotonic()
    with pytest.raises(BotoCoreError):
        slow_rig.rebuild()  # DescribeTable per table, with the short timeouts
    assert time.monotonic() - started < 10


def test_s3_and_dynamodb_slowed_after_orders_raise_in_time_and_the_retry_records(
    slow_rig: Rig, proxy: LatencyProxy
) -> None:
    """Orders go out, then every AWS answer takes SLOW_RESPONSE_S: the lock release, the
    result write and the claim's release time out within their budgets and the invocation
    raises before TIMEOUT_S; healed, the redelivery adopts the fills and writes the result."""

    def slow_down_after_first_submit(name: str, _number: int) -> None:
        if name == "submit_order":
            proxy.delay_s = SLOW_RESPONSE_S

    slow_rig.rebuild(lambda inner: InterceptingBroker(inner, slow_down_after_first_submit))
    event = slow_rig.event(ITEMS)
    plan_id = str(event["detail"]["plan_id"])
    elapsed, raised = _timed_invoke_raises(slow_rig, event)
    assert elapsed < TIMEOUT_S - 1, f"{type(raised).__name__} after {elapsed:.1f}s"
    posts = slow_rig.order_posts()
    assert posts > 0

    proxy.heal()
    slow_rig.rebuild()
    summary = slow_rig.invoke(event, timeout_s=TIMEOUT_S)
    assert summary["status"] == "SUCCEEDED", summary
    assert slow_rig.order_posts() == posts  # the first attempt's fills were adopted
    slow_rig.assert_invariant(plan_id)
