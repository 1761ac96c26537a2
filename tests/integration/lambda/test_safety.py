"""Kill switch, account lock, settings and publishing failures through the handler."""

from __future__ import annotations

import asyncio

import boto3
import pytest

from rebalance_executor import handler
from rebalance_executor.adapters.account_lock import DynamoDbAccountLock
from rebalance_executor.cli.local_aws import LocalResources
from rebalance_executor.domain.locks import AccountBusyError, account_key_for
from rebalance_executor.settings import SettingsError

from .conftest import KEY_ID, LambdaRig, log_lines


def test_kill_switch_parameter_blocks_trading(
    rig: LambdaRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("ssm").put_parameter(Name="/rebalance/kill", Value="true", Type="String")
    monkeypatch.setenv("KILL_SWITCH_PARAMETER", "/rebalance/kill")
    rig.rebuild()
    summary = rig.invoke(rig.event("rebalance_planned.json"))
    assert summary["status"] == "REJECTED", summary
    assert summary["orders_submitted"] == 0
    assert rig.order_posts() == 0


def test_busy_account_raises_and_releases_the_claim(
    rig: LambdaRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCK_TABLE", rig.resources.lock_table)
    rig.rebuild()
    lock = DynamoDbAccountLock(boto3.client("dynamodb"), rig.resources.lock_table)
    assert asyncio.run(lock.acquire(account_key_for(KEY_ID), "another-plan", 600))
    event = rig.event("rebalance_planned.json")
    with pytest.raises(AccountBusyError):
        rig.invoke(event)
    assert rig.order_posts() == 0
    assert boto3.client("dynamodb").scan(TableName=rig.resources.table)["Items"] == []
    assert asyncio.run(lock.release(account_key_for(KEY_ID), "another-plan"))
    assert rig.invoke(event)["status"] == "SUCCEEDED"


def test_publish_failure_is_logged_not_raised(
    rig: LambdaRig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    rig.rebuild()
    summary = rig.invoke(rig.event("rebalance_planned.json"))
    assert summary["status"] == "SUCCEEDED"
    errors = [line for line in log_lines(capsys.readouterr().err) if line["level"] == "ERROR"]
    assert [line["message"] for line in errors] == ["outcome event not published"]


def test_missing_results_bucket_fails_the_invocation(
    aws_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPACA_API_KEY", KEY_ID)
    monkeypatch.setenv("ALPACA_SECRET_KEY", "x")
    monkeypatch.delenv("RESULTS_BUCKET")
    handler.reset_dependencies()
    with pytest.raises(SettingsError, match="RESULTS_BUCKET"):
        handler.dependencies()
