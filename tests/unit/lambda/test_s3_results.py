"""S3 results store against moto: layout, attempts, ledger, write failures."""

from __future__ import annotations

import json

import boto3
import pytest

from rebalance_executor.adapters.s3_results import (
    ResultReadError,
    ResultWriteError,
    S3ResultsStore,
    ledger_lines,
    parse_s3_uri,
)
from rebalance_executor.cli.local_aws import LocalResources
from rebalance_executor.domain.result import ExecutionSummary

from .factories import T0, filled_result

EVENT = {"id": "evt-1", "detail": {"plan_id": "plan-1"}}


def _store(bucket: str) -> S3ResultsStore:
    return S3ResultsStore(boto3.client("s3"), bucket)


def _write(store: S3ResultsStore, attempt: int) -> str:
    result = filled_result()
    location = store.execution_location("plan-1", T0)
    summary = ExecutionSummary.of(result, location.result_uri, attempt)
    store.write(location, result, summary, raw_event=EVENT, request_id=f"req-{attempt}")
    return location.result_uri


def test_write_lays_out_result_event_attempt_and_ledger(aws_env: LocalResources) -> None:
    store = _store(aws_env.bucket)
    uri = _write(store, attempt=1)

    prefix = "executions/date=2026-01-05/plan_id=plan-1"
    assert uri == f"s3://{aws_env.bucket}/{prefix}/result.json"
    s3 = boto3.client("s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=aws_env.bucket)["Contents"]}
    assert keys == {
        f"{prefix}/result.json",
        f"{prefix}/event.json",
        f"{prefix}/attempts/1.json",
        "ledger/date=2026-01-05/plan_id=plan-1/fills-1.jsonl",
    }
    document = store.read_json(*parse_s3_uri(uri))
    assert document["status"] == "SUCCEEDED"
    assert document["schema_version"] == "1.2"
    assert store.read_json(aws_env.bucket, f"{prefix}/event.json") == EVENT
    attempt = store.read_json(aws_env.bucket, f"{prefix}/attempts/1.json")
    assert attempt["aws_request_id"] == "req-1"
    assert attempt["summary"]["filled_notional"] == "1001.60"
    ledger = s3.get_object(
        Bucket=aws_env.bucket, Key="ledger/date=2026-01-05/plan_id=plan-1/fills-1.jsonl"
    )["Body"].read()
    rows = [json.loads(line) for line in ledger.decode().splitlines()]
    assert [(r["broker_order_id"], r["filled_qty"]) for r in rows] == [("o-1", "4"), ("o-2", "6")]


def test_attempt_numbers_count_surviving_records(aws_env: LocalResources) -> None:
    store = _store(aws_env.bucket)
    location = store.execution_location("plan-1", T0)
    assert store.next_attempt(location) == 1
    _write(store, attempt=1)
    assert store.next_attempt(location) == 2
    _write(store, attempt=2)
    assert store.next_attempt(location) == 3
    # the first attempt's record survives the second write
    assert store.read_json(aws_env.bucket, location.attempt_key(1))["attempt"] == 1


def test_write_to_a_missing_bucket_raises(aws_env: LocalResources) -> None:
    """Retries are botocore's (tests/unit/lambda/test_aws_config.py); the store raises."""
    store = _store("no-such-bucket-here")
    with pytest.raises(ResultWriteError, match="PutObject on bucket no-such-bucket-here failed"):
        _write(store, attempt=1)


def test_read_missing_document_raises(aws_env: LocalResources) -> None:
    with pytest.raises(ResultReadError, match="cannot read"):
        _store(aws_env.bucket).read_json(aws_env.bucket, "missing.json")


def test_ledger_skips_orders_without_fills() -> None:
    rows = ledger_lines(filled_result(), attempt=2)
    assert {r["attempt"] for r in rows} == {2}
    assert "o-3" not in {r["broker_order_id"] for r in rows}
    assert rows[0]["filled_notional"] == "400.40"


@pytest.mark.parametrize("uri", ["s3://bucket", "http://b/k", "s3:///key", "s3://b/"])
def test_parse_s3_uri_rejects_non_s3(uri: str) -> None:
    with pytest.raises(ValueError, match="not an s3"):
        parse_s3_uri(uri)
