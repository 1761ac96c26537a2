"""Kill switch (env + SSM, fail closed, cached), secrets, event bus, countdown context."""

from __future__ import annotations

import asyncio
import json

import boto3
import pytest

from rebalance_executor.adapters import secrets
from rebalance_executor.adapters.event_bus import (
    DETAIL_EXECUTED,
    DETAIL_FAILED,
    EventBusPublisher,
    PublishError,
    detail_type_for,
)
from rebalance_executor.adapters.kill_switch import EnvSsmKillSwitch
from rebalance_executor.cli.local_aws import LocalResources
from rebalance_executor.domain.result import ExecutionStatus, ExecutionSummary
from rebalance_executor.lambda_context import CountdownContext

PARAM = "/rebalance/kill-switch"


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _switch(time: FakeTime, parameter: str = PARAM) -> EnvSsmKillSwitch:
    return EnvSsmKillSwitch(
        env_flag=False, ssm=boto3.client("ssm"), parameter=parameter, monotonic=time
    )


def test_env_flag_engages_without_ssm() -> None:
    assert asyncio.run(EnvSsmKillSwitch(env_flag=True).is_engaged()) is True
    assert asyncio.run(EnvSsmKillSwitch(env_flag=False).is_engaged()) is False


def test_parameter_value_is_read_and_cached(aws_env: LocalResources) -> None:
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name=PARAM, Value="false", Type="String")
    time = FakeTime()
    switch = _switch(time)
    assert asyncio.run(switch.is_engaged()) is False
    ssm.put_parameter(Name=PARAM, Value="true", Type="String", Overwrite=True)
    time.now += 1.0
    assert asyncio.run(switch.is_engaged()) is False  # still cached
    time.now += 10.0
    assert asyncio.run(switch.is_engaged()) is True


@pytest.mark.parametrize("value", ["maybe", "ON "])
def test_unknown_or_on_values_engage(aws_env: LocalResources, value: str) -> None:
    boto3.client("ssm").put_parameter(Name=PARAM, Value=value, Type="String")
    assert asyncio.run(_switch(FakeTime()).is_engaged()) is True


def test_missing_parameter_fails_closed(aws_env: LocalResources) -> None:
    assert asyncio.run(_switch(FakeTime(), "/does/not/exist").is_engaged()) is True


def test_secret_is_parsed_cached_and_never_echoed(aws_env: LocalResources) -> None:
    client = boto3.client("secretsmanager")
    client.create_secret(
        Name="alpaca", SecretString=json.dumps({"api_key": "AK1", "secret_key": "SK-very-secret"})
    )
    creds = secrets.credentials_from_secret(client, "alpaca")
    assert (creds.api_key, creds.secret_key) == ("AK1", "SK-very-secret")
    assert "SK-very-secret" not in repr(creds)
    client.update_secret(SecretId="alpaca", SecretString=json.dumps({"api_key": "x"}))
    assert secrets.credentials_from_secret(client, "alpaca") == creds  # cached per container


def test_malformed_or_missing_secret_raises_without_values(aws_env: LocalResources) -> None:
    client = boto3.client("secretsmanager")
    client.create_secret(Name="bad", SecretString='{"api_key": "AK-leak"}')
    with pytest.raises(secrets.CredentialsError, match="api_key and secret_key") as info:
        secrets.credentials_from_secret(client, "bad")
    assert "AK-leak" not in str(info.value)
    with pytest.raises(secrets.CredentialsError, match="cannot read secret missing"):
        secrets.credentials_from_secret(client, "missing")


def test_env_credentials_require_both() -> None:
    with pytest.raises(secrets.CredentialsError, match="must both be set"):
        secrets.credentials_from_env("AK", None)


def _bus_messages(resources: LocalResources) -> list[dict[str, object]]:
    sqs = boto3.client("sqs")
    queue = sqs.get_queue_url(QueueName="outcomes")["QueueUrl"]
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in received.get("Messages", [])]


def test_publish_puts_outcome_event_with_summary(aws_env: LocalResources) -> None:
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="outcomes")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    events = boto3.client("events")
    events.put_rule(
        Name="all", EventBusName=aws_env.bus, EventPattern='{"source": ["rebalance.executor"]}'
    )
    events.put_targets(
        Rule="all",
        EventBusName=aws_env.bus,
        Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}],
    )
    summary = ExecutionSummary(plan_id="p-1", status=ExecutionStatus.REJECTED, reason="bad")
    EventBusPublisher(events, aws_env.bus).publish(summary, correlation_id="c-1")

    [message] = _bus_messages(aws_env)
    assert message["detail-type"] == DETAIL_FAILED
    detail = message["detail"]
    assert isinstance(detail, dict)
    assert detail["correlation_id"] == "c-1"
    assert detail["summary"]["plan_id"] == "p-1"


def test_publish_to_missing_bus_raises(aws_env: LocalResources) -> None:
    summary = ExecutionSummary(plan_id="p-1", status=ExecutionStatus.SUCCEEDED)
    with pytest.raises(PublishError):
        EventBusPublisher(boto3.client("events"), "no-such-bus").publish(
            summary, correlation_id=None
        )


@pytest.mark.parametrize(
    ("status", "detail_type"),
    [
        (ExecutionStatus.SUCCEEDED, DETAIL_EXECUTED),
        (ExecutionStatus.PARTIAL, DETAIL_EXECUTED),
        (ExecutionStatus.SKIPPED, DETAIL_EXECUTED),
        (ExecutionStatus.DRY_RUN, DETAIL_EXECUTED),
        (ExecutionStatus.FAILED, DETAIL_FAILED),
        (ExecutionStatus.REJECTED, DETAIL_FAILED),
    ],
)
def test_detail_type_by_status(status: ExecutionStatus, detail_type: str) -> None:
    assert detail_type_for(status) == detail_type


def test_countdown_context_counts_down_and_never_negative() -> None:
    time = FakeTime()
    context = CountdownContext(timeout_s=30, monotonic=time, function_name="fn")
    assert context.get_remaining_time_in_millis() == 30_000
    time.now += 12.5
    assert context.get_remaining_time_in_millis() == 17_500
    time.now += 100
    assert context.get_remaining_time_in_millis() == 0
    assert context.invoked_function_arn.endswith(":function:fn")
    with pytest.raises(ValueError, match="positive"):
        CountdownContext(timeout_s=0)
