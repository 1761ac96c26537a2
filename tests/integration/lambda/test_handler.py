"""Each sample event through the real handler, simulator and moto (issue 3 "done when")."""

from __future__ import annotations

from decimal import Decimal

import boto3
import pytest

from rebalance_executor import handler
from rebalance_executor.adapters.idempotency import KEY_PREFIX
from rebalance_executor.adapters.s3_results import parse_s3_uri
from rebalance_executor.domain.result import ExecutionSummary
from rebalance_executor.lambda_context import CountdownContext

from .conftest import SECRET, LambdaRig, json_lines, log_lines

SUMMARY_KEYS = set(ExecutionSummary.model_fields)


def _s3_json(rig: LambdaRig, uri: str) -> dict[str, object]:
    return rig.deps.results.read_json(*parse_s3_uri(uri))


def _keys(rig: LambdaRig) -> set[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=rig.resources.bucket)
    return {o["Key"] for o in listing.get("Contents", [])}


def test_sample_event_executes_records_and_logs(
    rig: LambdaRig, capsys: pytest.CaptureFixture[str]
) -> None:
    event = rig.event("rebalance_planned.json")
    summary = rig.invoke(event)

    assert set(summary) == SUMMARY_KEYS
    assert summary["plan_id"] == "sample-plan-2026-0001"
    assert summary["status"] == "SUCCEEDED", summary
    assert summary["items_total"] == 4
    assert summary["items_filled"] == 3
    assert summary["orders_submitted"] >= 3
    assert summary["attempt"] == 1
    day = event["detail"]["timestamp"][:10]
    prefix = f"executions/date={day}/plan_id=sample-plan-2026-0001"
    assert summary["result_uri"] == f"s3://{rig.resources.bucket}/{prefix}/result.json"
    assert {f"{prefix}/result.json", f"{prefix}/event.json", f"{prefix}/attempts/1.json"} <= (
        _keys(rig)
    )
    assert any(k.startswith("ledger/") and k.endswith("fills-1.jsonl") for k in _keys(rig))
    document = _s3_json(rig, summary["result_uri"])
    assert document["status"] == "SUCCEEDED"
    streams = document["streams"]  # STREAMS_ENABLED defaults to true
    assert isinstance(streams, dict)
    assert streams["updates"] > 0
    assert _s3_json(rig, summary["result_uri"].replace("result.json", "event.json")) == event

    [record] = boto3.client("dynamodb").scan(TableName=rig.resources.table)["Items"]
    assert record["id"]["S"].startswith(f"{KEY_PREFIX}#")
    assert record["status"]["S"] == "COMPLETED"

    captured = capsys.readouterr()
    lines = log_lines(captured.err)
    assert lines, "the handler logged nothing"
    assert all(line["correlation_id"] == "corr-sample-0001" for line in lines)
    assert all(line["plan_id"] == "sample-plan-2026-0001" for line in lines)
    assert SECRET not in captured.err
    assert SECRET not in captured.out
    emf = [line for line in json_lines(captured.err) if "_aws" in line]
    assert any("Executions" in line and line.get("status") == "SUCCEEDED" for line in emf)
    assert any("FilledNotional" in line for line in emf)
    assert any("StreamFallbacks" in line for line in emf)


def test_nested_event_uses_its_correlation_id(
    rig: LambdaRig, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = rig.invoke(rig.event("rebalance_planned_nested.json"))
    assert summary["status"] == "SUCCEEDED", summary
    assert summary["plan_id"] == "sample-plan-2026-0002"
    lines = log_lines(capsys.readouterr().err)
    assert {line["correlation_id"] for line in lines} == {"corr-sample-0002"}


def test_duplicate_returns_stored_summary_without_broker_calls(rig: LambdaRig) -> None:
    original = rig.event("rebalance_planned.json")
    first = rig.invoke(original)
    before = rig.requests()
    duplicate = rig.event("rebalance_planned_duplicate.json")
    assert duplicate["id"] != original["id"]
    # same plan content, so the same timestamp as the first delivery
    duplicate["detail"]["timestamp"] = original["detail"]["timestamp"]
    assert rig.invoke(duplicate) == first
    assert rig.requests() == before


def test_replay_of_the_stored_event_sends_no_order(rig: LambdaRig) -> None:
    first = rig.invoke(rig.event("rebalance_planned.json"))
    stored = _s3_json(rig, first["result_uri"].replace("result.json", "event.json"))
    posts = rig.order_posts()
    assert rig.invoke(dict(stored)) == first
    assert rig.order_posts() == posts


def test_invalid_event_is_rejected_recorded_and_sends_nothing(rig: LambdaRig) -> None:
    summary = rig.invoke(rig.event("rebalance_planned_invalid.json"))
    assert set(summary) == SUMMARY_KEYS
    assert summary["status"] == "REJECTED"
    assert summary["reason"].startswith("items.0.trade_amount: must be > 0 for action BUY")
    assert summary["plan_id"] == "sample-plan-2026-invalid"
    assert rig.requests() == 0
    assert summary["result_uri"].startswith(f"s3://{rig.resources.bucket}/rejected/")
    assert _s3_json(rig, summary["result_uri"])["status"] == "REJECTED"
    assert boto3.client("dynamodb").scan(TableName=rig.resources.table)["Items"] == []


def test_same_plan_id_with_different_plan_is_rejected(rig: LambdaRig) -> None:
    first = rig.invoke(rig.event("rebalance_planned.json"))
    posts = rig.order_posts()
    changed = rig.event("rebalance_planned.json")
    changed["detail"]["items"][0]["trade_amount"] = "31000.00"
    summary = rig.invoke(changed)
    assert summary["status"] == "REJECTED"
    assert "already used for a different plan" in summary["reason"]
    assert summary["reason"].startswith("plan_id: sample-plan-2026-0001")
    assert rig.order_posts() == posts
    # the original record is untouched
    assert _s3_json(rig, first["result_uri"])["status"] == "SUCCEEDED"


def test_log_state_is_cleared_between_invocations(
    rig: LambdaRig, capsys: pytest.CaptureFixture[str]
) -> None:
    rig.invoke(rig.event("rebalance_planned.json"))
    capsys.readouterr()
    invalid = rig.event("rebalance_planned_invalid.json")
    rig.invoke(invalid)
    lines = log_lines(capsys.readouterr().err)
    assert lines
    assert {line["correlation_id"] for line in lines} == {invalid["id"]}
    assert {line["plan_id"] for line in lines} == {"sample-plan-2026-invalid"}
    # keys appended while executing the first plan do not leak into the next invocation
    assert [line for line in lines if "attempt" in line or "event_id" in line] == []


def test_result_is_written_before_the_invocation_would_time_out(rig: LambdaRig) -> None:
    context = CountdownContext(timeout_s=20.0, function_name="rebalance-test")
    summary = handler.lambda_handler(rig.event("rebalance_planned.json"), context)
    assert context.get_remaining_time_in_millis() > 0
    document = _s3_json(rig, summary["result_uri"])
    budget = document["budget"]
    assert isinstance(budget, dict)
    assert Decimal(budget["remaining_at_start_s"]) <= 20
    assert Decimal(budget["reserve_s"]) == 8
    assert Decimal(budget["total_s"]) <= Decimal(budget["remaining_at_start_s"])
