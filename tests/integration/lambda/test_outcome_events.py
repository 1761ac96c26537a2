"""Outcome events on the bus, captured through an SQS target (moto): what downstream reads."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from rebalance_executor.adapters.event_bus import EVENT_SOURCE

from .conftest import LambdaRig, json_lines


@pytest.fixture
def bus_queue(rig: LambdaRig) -> str:
    """An SQS queue receiving every event this service puts on the bus."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="outcomes")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events")
    events.put_rule(
        Name="all-outcomes",
        EventBusName=rig.resources.bus,
        EventPattern=json.dumps({"source": [EVENT_SOURCE]}),
    )
    events.put_targets(
        Rule="all-outcomes",
        EventBusName=rig.resources.bus,
        Targets=[{"Id": "queue", "Arn": arn}],
    )
    return str(url)


def _received(url: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_conflicting_duplicate_is_recorded_but_never_announced_as_the_plans_outcome(
    rig: LambdaRig, bus_queue: str
) -> None:
    first = rig.invoke(rig.event("rebalance_planned.json"))
    assert first["status"] == "SUCCEEDED", first
    changed = rig.event("rebalance_planned.json")
    changed["detail"]["items"][0]["trade_amount"] = "31000.00"
    rejected = rig.invoke(changed)
    assert rejected["status"] == "REJECTED"

    received = _received(bus_queue)
    by_type = {e["detail-type"]: e["detail"]["summary"] for e in received}
    assert sorted(by_type) == ["RebalanceDuplicateRejected", "RebalanceExecuted"]
    assert by_type["RebalanceExecuted"]["status"] == "SUCCEEDED"
    assert by_type["RebalanceDuplicateRejected"]["plan_id"] == first["plan_id"]
    # the rejection is recorded apart from the plan's own execution record
    assert rejected["result_uri"].startswith(f"s3://{rig.resources.bucket}/rejected/")
    assert "plan_id=" not in rejected["result_uri"]


def test_invalid_event_still_publishes_rebalance_failed(rig: LambdaRig, bus_queue: str) -> None:
    summary = rig.invoke(rig.event("rebalance_planned_invalid.json"))
    assert summary["status"] == "REJECTED"
    [event] = _received(bus_queue)
    assert event["detail-type"] == "RebalanceFailed"


def test_overfill_metric_is_emitted_with_each_execution(
    rig: LambdaRig, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = rig.invoke(rig.event("rebalance_planned.json"))
    assert summary["status"] == "SUCCEEDED", summary
    emf = [line for line in json_lines(capsys.readouterr().err) if "_aws" in line]
    [document] = [line for line in emf if "Overfill" in line]
    assert document["Overfill"] == [0.0]  # nothing over-filled; the metric exists from run one
    assert document["service"] == "rebalance-executor"  # the alarm's dimension
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert {"Name": "Overfill", "Unit": "Count"} in directive["Metrics"]
