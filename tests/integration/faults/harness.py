"""Shared rig for the safety-control matrix and the fault suite (issue 7).

The real handler, the real alpaca-py client against ``alpaca_sim`` over loopback HTTP, boto3
against moto. The Lambda context counts down on the simulator's clock so the deadline, the
executor's schedule and the market all run on the same (scaled) time.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import boto3
import pytest

from rebalance_executor import handler
from rebalance_executor.bench.invariants import check_execution, records_from_sim
from rebalance_executor.cli.local_aws import LocalResources
from rebalance_executor.composition import Dependencies, build_dependencies
from rebalance_executor.domain.broker import BrokerPort
from rebalance_executor.domain.clock import Deadline
from rebalance_executor.domain.result import ExecutionResult
from rebalance_executor.executor.ids import parse_client_order_id, plan_key
from rebalance_executor.lambda_context import CountdownContext
from rebalance_executor.settings import load_settings
from tests.fixtures.handler import HandlerSim, SimHandlerRig, apply_env

KEY_ID = "SAFETYKEYID-7f3a9c"
SECRET = "SAFETY-SECRET-d41d8cd98f00b204e980"
TIME_SCALE = 20.0

BrokerWrapper = Callable[[BrokerPort], BrokerPort]
Item = tuple[str, str, str]  # symbol, action, trade_amount


@dataclasses.dataclass
class Rig(SimHandlerRig):
    """One simulator, the moto resources, and the handler's dependencies built from env."""

    monkeypatch: pytest.MonkeyPatch
    deps: Dependencies | None = None

    # --- environment and dependencies ------------------------------------------------------

    def rebuild(self, wrap: BrokerWrapper | None = None, /, **env: str | None) -> Dependencies:
        """Apply env changes (None deletes), rebuild the dependencies, optionally wrap the
        broker the handler will use (our own port)."""
        apply_env(self.monkeypatch, env)
        deps = build_dependencies(load_settings(), clock=self.sim.clock)
        if wrap is not None:
            deps = with_broker_wrapper(deps, wrap)
        self.deps = deps
        handler.reset_dependencies(deps)
        return deps

    # --- events and invocation --------------------------------------------------------------

    def event(self, items: Sequence[Item], plan_id: str | None = None) -> dict[str, Any]:
        """A ``RebalancePlanned`` envelope stamped at the simulator's now."""
        stamp = self.sim.clock.now().isoformat().replace("+00:00", "Z")
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "RebalancePlanned",
            "source": "tests.safety",
            "account": "123456789012",
            "time": stamp,
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "plan_id": plan_id or f"safety-{uuid.uuid4().hex[:12]}",
                "correlation_id": "corr-safety",
                "timestamp": stamp,
                "items": [
                    {"symbol": s, "action": a, "trade_amount": amount} for s, a, amount in items
                ],
            },
        }

    def invoke(self, event: Mapping[str, Any], timeout_s: float = 60.0) -> dict[str, Any]:
        """Call the real Lambda handler; raises whatever it raised."""
        context = CountdownContext(
            timeout_s=timeout_s, function_name="safety-test", monotonic=self.sim.clock.monotonic
        )
        return handler.lambda_handler(dict(event), context)  # type: ignore[no-any-return]

    # --- what the broker saw -----------------------------------------------------------------

    def orders(self, plan_id: str) -> list[dict[str, Any]]:
        """Every broker order carrying this plan's client order id prefix."""
        key = plan_key(plan_id)
        return [
            o
            for o in self.sim.control.orders(KEY_ID)
            if parse_client_order_id(key, str(o["client_order_id"])) is not None
        ]

    def filled_by_item(self, plan_id: str) -> dict[int, Decimal]:
        """Filled quantity per item index, from the simulator's own fill records."""
        key = plan_key(plan_id)
        filled: dict[int, Decimal] = defaultdict(Decimal)
        for fill in self.sim.control.fills(KEY_ID):
            parsed = parse_client_order_id(key, fill.client_order_id)
            if parsed is not None:
                filled[parsed[0]] += fill.qty
        return dict(filled)

    def position(self, symbol: str) -> Decimal:
        return self.sim.control.account_state(KEY_ID).positions.get(symbol, Decimal(0))

    # --- what ended up in S3 -----------------------------------------------------------------

    def s3_keys(self) -> list[str]:
        s3 = boto3.client("s3")
        keys: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.resources.bucket):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return keys

    def s3_json(self, key: str) -> dict[str, Any]:
        body = boto3.client("s3").get_object(Bucket=self.resources.bucket, Key=key)["Body"]
        loaded: dict[str, Any] = json.loads(body.read())
        return loaded

    def result_doc(self, plan_id: str) -> dict[str, Any]:
        """The plan's ``result.json`` (fails the test when it is missing)."""
        [key] = [k for k in self.s3_keys() if k.endswith(f"plan_id={plan_id}/result.json")]
        return self.s3_json(key)

    def attempt_docs(self, plan_id: str) -> list[dict[str, Any]]:
        keys = sorted(k for k in self.s3_keys() if f"plan_id={plan_id}/attempts/" in k)
        return [self.s3_json(k) for k in keys]

    def assert_invariant(self, plan_id: str) -> dict[str, Any]:
        """SPEC §4.10 now, on the stored result (the shared checker, as at teardown), and no
        client order id used twice. Returns the result document."""
        result = self.result_doc(plan_id)
        stored = ExecutionResult.model_validate(result)
        found = check_execution(None, stored, records_from_sim(self.sim.control, KEY_ID))
        assert found == [], [str(v) for v in found]
        coids = [o["client_order_id"] for o in self.orders(plan_id)]
        assert len(coids) == len(set(coids)), "a client order id was used twice"
        return result


def with_broker_wrapper(deps: Dependencies, wrap: BrokerWrapper) -> Dependencies:
    """The same dependencies whose broker factory wraps every broker it creates."""
    inner = deps.broker_factory

    def factory(deadline: Deadline) -> BrokerPort:
        return wrap(inner(deadline))

    return dataclasses.replace(deps, broker_factory=factory)


@pytest.fixture
def rig(aws_env: LocalResources, handler_sim: HandlerSim, monkeypatch: pytest.MonkeyPatch) -> Rig:
    """Handler + simulator (time_scale 20, fixed key) + moto, with the lock table enabled."""
    env = {"DEADLINE_RESERVE_S": "8", "LOCK_TABLE": aws_env.lock_table}
    sim = handler_sim(KEY_ID, SECRET, seed=7, time_scale=TIME_SCALE, env=env)
    the_rig = Rig(sim=sim, resources=aws_env, monkeypatch=monkeypatch)
    the_rig.rebuild()
    return the_rig


@dataclasses.dataclass
class Delivery:
    """The outcome of delivering one event until the handler returned (Lambda retries)."""

    summary: dict[str, Any]
    raised: list[str]


def deliver_until_done(
    rig: Rig,
    event: Mapping[str, Any],
    *,
    max_attempts: int = 4,
    timeout_s: float = 60.0,
    between: Callable[[int], None] | None = None,
) -> Delivery:
    """Invoke like Lambda's async retries: a raising invocation is delivered again.

    ``between(n)`` runs after the n-th failed attempt (e.g. to heal an injected fault).
    Fails the test when the handler still raises after ``max_attempts``.
    """
    raised: list[str] = []
    for attempt in range(1, max_attempts + 1):
        try:
            return Delivery(summary=rig.invoke(event, timeout_s=timeout_s), raised=raised)
        except Exception as exc:  # any raise is a Lambda retry; recorded, not hidden
            raised.append(type(exc).__name__)
            if between is not None:
                between(attempt)
    pytest.fail(f"handler still raising after {max_attempts} deliveries: {raised}")
