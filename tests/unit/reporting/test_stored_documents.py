"""Contract between the S3 writer and the report reader: what the Lambda stores, `report` reads."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest

from rebalance_executor.cli.local_aws import LocalResources
from rebalance_executor.reporting.loading import ResultLoadError, load_result
from tests.unit.reporting.factory import sample_result, store_sample


def _download(key: str, target: Path) -> Path:
    boto3.client("s3").download_file(os.environ["RESULTS_BUCKET"], key, str(target))
    return target


def test_report_reads_result_and_attempt_records_as_stored(
    aws_env: LocalResources, tmp_path: Path
) -> None:
    location = store_sample(os.environ["RESULTS_BUCKET"])
    assert load_result(_download(location.result_key, tmp_path / "result.json")) == (
        sample_result()
    )
    assert load_result(_download(location.attempt_key(1), tmp_path / "1.json")) == (sample_result())


def test_report_refuses_the_stored_event(aws_env: LocalResources, tmp_path: Path) -> None:
    location = store_sample(os.environ["RESULTS_BUCKET"])
    event = _download(location.event_key, tmp_path / "event.json")
    with pytest.raises(ResultLoadError, match="no execution result found"):
        load_result(event)
