"""Secrets never leak (SPEC §6): full runs with distinctive key/secret values, then every log
line, every S3 object version and every DynamoDB item is scanned for them."""

from __future__ import annotations

import json
import logging

import boto3
import pytest

from rebalance_executor.adapters import secrets
from tests.integration.faults.harness import KEY_ID, SECRET, Rig, deliver_until_done

SECRET_ID = "rebalance/alpaca-test"


def _s3_everything(rig: Rig) -> list[str]:
    s3 = boto3.client("s3")
    bodies: list[str] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=rig.resources.bucket):
        for version in page.get("Versions", []):
            obj = s3.get_object(
                Bucket=rig.resources.bucket, Key=version["Key"], VersionId=version["VersionId"]
            )
            bodies.append(version["Key"] + "\n" + obj["Body"].read().decode("utf-8"))
    return bodies


def _dynamodb_everything(rig: Rig) -> list[str]:
    ddb = boto3.client("dynamodb")
    tables = (rig.resources.table, rig.resources.lock_table)
    return [json.dumps(ddb.scan(TableName=t)["Items"]) for t in tables]


class SecretLeakError(AssertionError):
    """A key or secret value was found where it must never be."""


def _assert_clean(texts: list[str], *values: str) -> None:
    for index, text in enumerate(texts):
        for value in values:
            if value in text:
                at = text.index(value)
                raise SecretLeakError(f"text #{index} leaks: ...{text[max(0, at - 120) : at]}")


def _most_verbose(caplog: pytest.LogCaptureFixture, botocore_debug: bool) -> None:
    """Our loggers, alpaca-py and urllib3 at DEBUG; botocore at DEBUG only when asked."""
    for name in ("rebalance_executor", "rebalance-executor", "alpaca", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    if botocore_debug:
        caplog.set_level(logging.DEBUG)


@pytest.mark.parametrize(
    ("source", "botocore_debug"),
    [
        ("env", False),
        ("env", True),
        ("secrets_manager", False),
        # Root at DEBUG (e.g. Lambda log level DEBUG): botocore would log GetSecretValue's
        # response body; observability pins the SDK loggers at INFO or above.
        ("secrets_manager", True),
    ],
)
def test_full_run_leaks_neither_key_nor_secret(
    rig: Rig,
    source: str,
    botocore_debug: bool,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    if source == "secrets_manager":
        boto3.client("secretsmanager").create_secret(
            Name=SECRET_ID, SecretString=json.dumps({"api_key": KEY_ID, "secret_key": SECRET})
        )
        secrets.clear_cache()
        rig.rebuild(ALPACA_SECRET_ID=SECRET_ID, ALPACA_API_KEY=None, ALPACA_SECRET_KEY=None)
    # Market orders: DEBUG logging is slow, and this test is about what is written, not fills.
    rig.rebuild(EXECUTION_POLICY="market")
    capsys.readouterr()  # the test's own setup is not scanned; everything from here on is
    _most_verbose(caplog, botocore_debug)
    event = rig.event([("SPY", "BUY", "3000"), ("TLT", "SELL", "-500")])
    # A rejected event and a duplicate exercise the other write paths too.
    summary = deliver_until_done(rig, event).summary
    duplicate = rig.invoke(event)
    rejected = rig.invoke({"detail": {"plan_id": "bad plan!", "items": "nope"}})

    assert summary["status"] in {"SUCCEEDED", "PARTIAL"}
    assert duplicate == summary
    assert rejected["status"] == "REJECTED"
    assert rig.orders(event["detail"]["plan_id"]), "the run must really have traded"
    captured = capsys.readouterr()
    logs = [captured.out, captured.err, caplog.text]
    logs += [json.dumps(r.__dict__, default=str) for r in caplog.records]
    _assert_clean(logs, KEY_ID, SECRET)
    _assert_clean(_s3_everything(rig), KEY_ID, SECRET)
    _assert_clean(_dynamodb_everything(rig), KEY_ID, SECRET)
    _assert_clean([json.dumps(summary), json.dumps(rejected)], KEY_ID, SECRET)


def test_wrong_secret_fails_without_echoing_it(
    rig: Rig, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    _most_verbose(caplog, botocore_debug=True)
    wrong = "WRONG-SECRET-5e884898da28047151d0e56f8dc6"
    rig.rebuild(ALPACA_SECRET_KEY=wrong)
    with pytest.raises(Exception) as raised:  # noqa: PT011 - whatever it is, it must not echo
        rig.invoke(rig.event([("SPY", "BUY", "1000")]))
    assert rig.order_posts() == 0
    captured = capsys.readouterr()
    texts = [captured.out, captured.err, caplog.text, str(raised.value), repr(raised.value)]
    _assert_clean(texts, wrong, SECRET)
