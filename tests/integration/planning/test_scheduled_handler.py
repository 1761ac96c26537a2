"""issue 8 "done when": scheduled allocations through the real handler, simulator and moto."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest

from .conftest import ScheduleRig

TOLERANCE = Decimal("0.02")  # the sample's options.max_drift_tolerance
TARGETS = {"SPY": Decimal("0.6"), "BND": Decimal("0.4")}


def _result(rig: ScheduleRig, summary: dict[str, Any]) -> dict[str, Any]:
    bucket, _, key = summary["result_uri"].removeprefix("s3://").partition("/")
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    document: dict[str, Any] = json.loads(body)
    return document


def _drifted(rig: ScheduleRig) -> None:
    # 100 SPY (~$50k) and 200 BND (~$14k) plus $6k cash: SPY ~71%, BND ~21%.
    rig.set_account("6000", {"SPY": "100", "BND": "200"})


def test_drifted_account_is_brought_within_tolerance(schedule_rig: ScheduleRig) -> None:
    _drifted(schedule_rig)
    event = schedule_rig.allocation()
    summary = schedule_rig.invoke(event)

    assert summary["status"] == "SUCCEEDED", summary
    assert summary["plan_id"] == f"sched:monthly-60-40:{event['scheduled_time'][:16]}Z"
    assert summary["orders_submitted"] >= 2
    weights = schedule_rig.weights()
    for symbol, target in TARGETS.items():
        assert abs(weights[symbol] - target) <= TOLERANCE, weights
    document = _result(schedule_rig, summary)
    assert document["plan"]["metadata"]["source"] == "schedule"
    assert document["plan"]["timestamp"].startswith(event["scheduled_time"][:16])
    actions = {item["symbol"]: item["action"] for item in document["items"]}
    assert actions == {"SPY": "SELL", "BND": "BUY"}


def test_same_tick_delivered_twice_trades_once(schedule_rig: ScheduleRig) -> None:
    _drifted(schedule_rig)
    event = schedule_rig.allocation()
    first = schedule_rig.invoke(event)
    posts = schedule_rig.order_posts()
    assert first["status"] == "SUCCEEDED", first
    assert posts >= 2

    # A redelivery, and the same tick inside an EventBridge envelope: same plan_id, no trading.
    again = schedule_rig.invoke(event)
    wrapped = schedule_rig.allocation("scheduled_allocation_envelope.json")
    wrapped["detail"] = dict(event)
    enveloped = schedule_rig.invoke(wrapped)

    assert again == first
    assert enveloped == first
    assert schedule_rig.order_posts() == posts


def test_next_tick_within_tolerance_is_skipped_with_no_orders(schedule_rig: ScheduleRig) -> None:
    equity = Decimal(100_000)
    spy = (equity * TARGETS["SPY"] / schedule_rig.mid("SPY")).quantize(Decimal(1))
    bnd = (equity * TARGETS["BND"] / schedule_rig.mid("BND")).quantize(Decimal(1))
    cash = equity - spy * schedule_rig.mid("SPY") - bnd * schedule_rig.mid("BND")
    schedule_rig.set_account(str(cash), {"SPY": str(spy), "BND": str(bnd)})

    summary = schedule_rig.invoke(schedule_rig.allocation())

    assert summary["status"] == "SKIPPED", summary
    assert summary["reason"].startswith("WITHIN_TOLERANCE")
    assert summary["orders_submitted"] == 0
    assert schedule_rig.order_posts() == 0
    document = _result(schedule_rig, summary)
    assert {item["outcome"] for item in document["items"]} == {"HOLD"}


def test_closed_market_is_skipped_not_an_error(schedule_rig: ScheduleRig) -> None:
    _drifted(schedule_rig)
    schedule_rig.sim.control.set_market_open(False)

    summary = schedule_rig.invoke(schedule_rig.allocation())

    assert summary["status"] == "SKIPPED", summary
    assert summary["reason"].startswith("MARKET_CLOSED")
    assert schedule_rig.order_posts() == 0


@pytest.mark.parametrize(
    ("targets", "field"),
    [
        ({"SPY": "0.7", "BND": "0.4"}, "targets"),
        ({"SPY": "0.7", "BND": "-0.1"}, "targets.BND"),
    ],
)
def test_invalid_allocation_is_rejected_without_any_broker_call(
    schedule_rig: ScheduleRig, targets: dict[str, str], field: str
) -> None:
    summary = schedule_rig.invoke(schedule_rig.allocation(targets=targets))

    assert summary["status"] == "REJECTED", summary
    assert summary["reason"].startswith(field)
    assert schedule_rig.requests() == 0


def test_unknown_symbol_is_rejected_without_any_order(schedule_rig: ScheduleRig) -> None:
    summary = schedule_rig.invoke(schedule_rig.allocation(targets={"SPY": "0.5", "ZZZZ": "0.5"}))

    assert summary["status"] == "REJECTED", summary
    assert "targets.ZZZZ" in summary["reason"]
    assert summary["orders_submitted"] == 0
    assert schedule_rig.order_posts() == 0


def test_stale_tick_is_rejected_before_reading_the_broker(schedule_rig: ScheduleRig) -> None:
    summary = schedule_rig.invoke(schedule_rig.allocation(minutes_ago=60))

    assert summary["status"] == "REJECTED", summary
    assert "MAX_PLAN_AGE_S" in summary["reason"]
    assert schedule_rig.requests() == 0


def test_same_tick_with_different_targets_is_rejected(schedule_rig: ScheduleRig) -> None:
    _drifted(schedule_rig)
    event = schedule_rig.allocation()
    assert schedule_rig.invoke(event)["status"] == "SUCCEEDED"
    posts = schedule_rig.order_posts()

    changed = dict(event, targets={"SPY": "0.5", "BND": "0.5"})
    summary = schedule_rig.invoke(changed)

    assert summary["status"] == "REJECTED", summary
    assert "already used for a different plan" in summary["reason"]
    assert schedule_rig.order_posts() == posts
