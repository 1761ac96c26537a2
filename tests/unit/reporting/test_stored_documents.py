"""Contract between the S3 writer and the report reader: what the Lambda stores, `report` reads."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest

from rebalance_executor.adapters.s3_results import S3ResultsStore
from rebalance_executor.cli.local_aws import LocalResources
from rebalance_executor.domain.result import ExecutionSummary
from rebalance_executor.reporting.loading import ResultLoadError, load_result
from tests.unit.reporting.factory import sample_result


def _download(bucket: str, key: str, target: Path) -> Path:
    boto3.client("s3").download_file(bucket, key, str(target))
    return target


def test_report_reads_result_and_attempt_records_as_stored(
    aws_env: LocalResources, tmp_path: Path
) -> None:
    result = sample_result()
    bucket = os.environ["RESULTS_BUCKET"]
    store = S3ResultsStore(boto3.client("s3"), bucket)
    location = store.execution_location(result.plan_id, result.started_at)
    summary = ExecutionSummary.of(result, location.result_uri, attempt=1)
    store.write(location, result, summary, raw_event={"id": "e-1"}, request_id="req-1")

    stored = _download(bucket, location.result_key, tmp_path / "result.json")
    attempt = _download(bucket, location.attempt_key(1), tmp_path / "attempt-1.json")

    assert load_result(stored) == result
    assert load_result(attempt) == result


def test_report_refuses_the_stored_event(aws_env: LocalResources, tmp_path: Path) -> None:
    result = sample_result()
    bucket = os.environ["RESULTS_BUCKET"]
    store = S3ResultsStore(boto3.client("s3"), bucket)
    location = store.execution_location(result.plan_id, result.started_at)
    summary = ExecutionSummary.of(result, location.result_uri, attempt=1)
    store.write(location, result, summary, raw_event={"id": "e-1"}, request_id="req-1")

    event = _download(bucket, location.event_key, tmp_path / "event.json")
    with pytest.raises(ResultLoadError, match="no execution result found"):
        load_result(event)
