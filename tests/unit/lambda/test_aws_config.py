"""AWS client bounds (SPEC §4.6, §4.7): budgets derived from the reserve, the invocation window."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import pytest

from rebalance_executor.adapters.aws_config import (
    AWS_SHARE_OF_RESERVE,
    WINDOW_MARGIN_S,
    AwsCallBudget,
    AwsWindowClosedError,
    invocation_window,
)
from rebalance_executor.cli.local_aws import LocalResources


@dataclass
class FixedContext:
    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.mark.parametrize("reserve_s", [1.0, 2.0, 5.0, 8.0, 12.0, 20.0, 30.0, 60.0, 300.0])
def test_one_call_fits_in_the_reserves_share_for_writes(reserve_s: float) -> None:
    budget = AwsCallBudget.from_reserve(reserve_s)
    assert budget.per_call_s <= reserve_s * AWS_SHARE_OF_RESERVE
    assert budget.connect_timeout_s > 0
    assert budget.read_timeout_s >= budget.connect_timeout_s
    assert 1 <= budget.max_attempts <= 3


def test_default_reserve_gives_one_retry_with_short_timeouts() -> None:
    budget = AwsCallBudget.from_reserve(8.0)
    assert (budget.max_attempts, budget.connect_timeout_s, budget.read_timeout_s) == (2, 0.5, 1.0)
    options = vars(budget.botocore_config())
    assert options["retries"] == {"mode": "standard", "total_max_attempts": 2}
    assert (options["connect_timeout"], options["read_timeout"]) == (0.5, 1.0)


def test_larger_reserves_buy_more_attempts_not_unbounded_timeouts() -> None:
    small, large = AwsCallBudget.from_reserve(8.0), AwsCallBudget.from_reserve(300.0)
    assert large.max_attempts == 3 > small.max_attempts
    assert large.read_timeout_s <= 10.0


def test_calls_run_outside_an_invocation_and_inside_an_open_window(
    aws_env: LocalResources,
) -> None:
    budget = AwsCallBudget.from_reserve(8.0)
    s3 = budget.bounded(boto3.client("s3", config=budget.botocore_config()))
    assert s3.head_bucket(Bucket=aws_env.bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    wide = FixedContext(int((budget.per_call_s + WINDOW_MARGIN_S + 5) * 1000))
    with invocation_window(wide):
        assert s3.head_bucket(Bucket=aws_env.bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_call_that_could_outlast_the_lambda_is_not_started(aws_env: LocalResources) -> None:
    budget = AwsCallBudget.from_reserve(8.0)
    s3 = budget.bounded(boto3.client("s3", config=budget.botocore_config()))
    narrow = FixedContext(int((budget.per_call_s + WINDOW_MARGIN_S - 0.5) * 1000))
    with invocation_window(narrow), pytest.raises(AwsWindowClosedError, match="PutObject"):
        s3.put_object(Bucket=aws_env.bucket, Key="k", Body=b"{}")
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=aws_env.bucket)
    # the window ends with the invocation
    s3.put_object(Bucket=aws_env.bucket, Key="k", Body=b"{}")
