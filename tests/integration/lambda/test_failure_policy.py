"""SPEC §4.8 through the real handler: what is returned and what is raised."""

from __future__ import annotations

import dataclasses
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from botocore.exceptions import EndpointConnectionError

from alpaca_sim.faults import FaultSpec
from rebalance_executor import handler
from rebalance_executor.adapters.idempotency import KEY_PREFIX, claim_payload
from rebalance_executor.adapters.s3_results import ResultWriteError, S3ResultsStore
from rebalance_executor.domain.broker import BrokerUnavailableError
from rebalance_executor.events import parse_event

from .conftest import LambdaRig

# SPEC §4.2: an attempt refused for time or age still lists the plan's orders first (one
# request) so that it can report what earlier attempts left; with none, nothing else is sent.


def test_too_small_budget_is_rejected_after_only_the_reconciliation_listing(
    rig: LambdaRig,
) -> None:
    summary = rig.invoke(rig.event("rebalance_planned.json"), timeout_s=9.5)
    assert summary["status"] == "REJECTED"
    assert summary["reason"].startswith("time budget:")
    assert rig.sim.control.request_counts() == {"GET /v2/orders": 1}


def test_stale_plan_is_rejected_after_only_the_reconciliation_listing(rig: LambdaRig) -> None:
    event = rig.event("rebalance_planned.json")
    event["detail"]["timestamp"] = "2020-01-01T00:00:00Z"
    summary = rig.invoke(event)
    assert summary["status"] == "REJECTED"
    assert "older than MAX_PLAN_AGE_S" in summary["reason"]
    assert rig.sim.control.request_counts() == {"GET /v2/orders": 1}


def test_transient_preflight_failure_raises_and_releases_the_claim(rig: LambdaRig) -> None:
    rig.sim.control.inject_fault(FaultSpec(endpoint="GET /v2/account", kind="http_5xx"))
    event = rig.event("rebalance_planned.json")
    with pytest.raises(BrokerUnavailableError):
        rig.invoke(event)
    assert rig.order_posts() == 0
    assert boto3.client("dynamodb").scan(TableName=rig.resources.table)["Items"] == []
    rig.sim.control.clear_faults()
    assert rig.invoke(event)["status"] == "SUCCEEDED"


def test_concurrent_duplicate_is_skipped_not_an_error(rig: LambdaRig) -> None:
    event = rig.event("rebalance_planned.json")
    payload = claim_payload(parse_event(event).plan)
    # another invocation holds the claim right now
    persistence = rig.deps.persistence
    persistence.configure(rig.deps.idempotency, key_prefix=KEY_PREFIX)
    persistence.save_inprogress(data=payload, remaining_time_in_millis=60_000)
    summary = rig.invoke(event)
    assert summary["status"] == "SKIPPED"
    assert "already being executed" in summary["reason"]
    assert rig.requests() == 0
    assert isinstance(rig.deps.idempotency, IdempotencyConfig)


def test_s3_unreachable_before_trading_raises_and_sends_nothing(
    rig: LambdaRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESULTS_BUCKET", "bucket-that-does-not-exist")
    rig.rebuild()
    with pytest.raises(ResultWriteError):
        rig.invoke(rig.event("rebalance_planned.json"))
    assert rig.order_posts() == 0
    assert boto3.client("dynamodb").scan(TableName=rig.resources.table)["Items"] == []


def _failing_puts(**_: Any) -> None:
    raise EndpointConnectionError(endpoint_url="https://s3.test")


def test_s3_write_failure_after_orders_raises_and_the_retry_reconciles(rig: LambdaRig) -> None:
    healthy = rig.deps
    s3 = boto3.client("s3")
    # Fault injection through botocore's own event hooks: the real client, failing PutObject.
    s3.meta.events.register("before-call.s3.PutObject", _failing_puts)
    failing = S3ResultsStore(s3, rig.resources.bucket)
    handler.reset_dependencies(dataclasses.replace(healthy, results=failing))
    event = rig.event("rebalance_planned.json")
    with pytest.raises(ResultWriteError, match=r"PutObject on bucket \S+ failed"):
        rig.invoke(event)
    posts = rig.order_posts()
    assert posts > 0
    assert boto3.client("dynamodb").scan(TableName=rig.resources.table)["Items"] == []

    handler.reset_dependencies(healthy)
    summary = rig.invoke(event)
    assert summary["status"] == "SUCCEEDED", summary
    assert summary["filled_notional"] == summary["planned_notional"] or summary["items_filled"] == 3
    assert rig.order_posts() == posts  # the retry adopted the filled orders, sent nothing new
