"""AWS faults through the real handler (moto): S3 gone then back, DynamoDB unavailable (fails
closed: no trading without the claim or the account lock), tables refused at cold start,
duplicate and competing deliveries (the lock never off, with or without LOCK_TABLE)."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyPersistenceLayerError,
)

from rebalance_executor.adapters.s3_results import ResultWriteError
from rebalance_executor.domain.broker import BrokerPort
from rebalance_executor.domain.locks import AccountBusyError, LockStoreUnavailableError
from rebalance_executor.settings import SettingsError
from tests.integration.faults.brokers import InterceptingBroker
from tests.integration.faults.harness import KEY_ID, Rig

ITEMS = [("SPY", "BUY", "6000"), ("BND", "BUY", "3000")]


def _recreate_bucket(bucket: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def test_s3_unavailable_after_orders_then_back(rig: Rig) -> None:
    """The bucket disappears while orders work; the write fails after bounded retries and the
    invocation raises; the bucket returns; the retry reconciles, sends nothing new, writes."""
    bucket = rig.resources.bucket
    dropped: list[bool] = []

    def drop_bucket(name: str, _number: int) -> None:
        if name == "submit_order" and not dropped:
            dropped.append(True)
            boto3.client("s3").delete_bucket(Bucket=bucket)

    rig.rebuild(lambda inner: InterceptingBroker(inner, drop_bucket), EXECUTION_POLICY="market")
    event = rig.event(ITEMS)
    with pytest.raises(ResultWriteError):
        rig.invoke(event)
    posts = rig.order_posts()
    assert posts > 0
    assert boto3.client("dynamodb").scan(TableName=rig.resources.table)["Items"] == []

    _recreate_bucket(bucket)
    rig.rebuild()
    summary = rig.invoke(event)
    rig.assert_invariant(event["detail"]["plan_id"])
    assert summary["status"] == "SUCCEEDED"
    assert rig.order_posts() == posts  # everything filled in the first attempt was adopted


def _delete_table(name: str) -> None:
    ddb = boto3.client("dynamodb")
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name)


def _recreate_table(name: str) -> None:
    """The table again, with the schema both tables share (SPEC §3.4)."""
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.mark.parametrize("variable", ["IDEMPOTENCY_TABLE", "LOCK_TABLE"])
def test_a_missing_table_is_refused_at_cold_start_naming_the_variable(
    rig: Rig, variable: str
) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}: table no-such-table does not exist"):
        rig.rebuild(**{variable: "no-such-table"})
    assert rig.sim.control.total_requests() == 0


@pytest.mark.parametrize("variable", ["IDEMPOTENCY_TABLE", "LOCK_TABLE"])
def test_a_table_with_another_key_schema_is_refused_at_cold_start(rig: Rig, variable: str) -> None:
    boto3.client("dynamodb").create_table(
        TableName="wrong-schema",
        KeySchema=[{"AttributeName": "lock_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "lock_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(SettingsError, match=f"^{variable}: table wrong-schema must have .*lock_id"):
        rig.rebuild(**{variable: "wrong-schema"})


def test_idempotency_table_unavailable_fails_closed(rig: Rig) -> None:
    """The table passes the cold-start check, then disappears: no trading without the claim."""
    _delete_table(rig.resources.table)
    event = rig.event(ITEMS)
    with pytest.raises(IdempotencyPersistenceLayerError):
        rig.invoke(event)
    assert rig.sim.control.total_requests() == 0  # not even a read: no trading without claim

    _recreate_table(rig.resources.table)
    assert rig.invoke(event)["status"] == "SUCCEEDED"
    rig.assert_invariant(event["detail"]["plan_id"])


def test_lock_table_unavailable_fails_closed_and_releases_the_claim(rig: Rig) -> None:
    _delete_table(rig.resources.lock_table)
    event = rig.event(ITEMS)
    with pytest.raises(LockStoreUnavailableError):
        rig.invoke(event)
    assert rig.order_posts() == 0
    assert boto3.client("dynamodb").scan(TableName=rig.resources.table)["Items"] == []

    _recreate_table(rig.resources.lock_table)
    assert rig.invoke(event)["status"] == "SUCCEEDED"
    rig.assert_invariant(event["detail"]["plan_id"])


def _invoke_in_threads(rig: Rig, events: list[dict[str, Any]]) -> list[Any]:
    barrier = threading.Barrier(len(events))
    outcomes: list[Any] = [None] * len(events)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = rig.invoke(events[index])
        except Exception as exc:  # recorded and asserted on by the caller
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_duplicate_deliveries_execute_once(rig: Rig) -> None:
    rig.sim.control.set_account(KEY_ID, positions={"QQQ": Decimal(30)})
    event = rig.event([("QQQ", "SELL", "-4300"), *ITEMS])
    plan_id = event["detail"]["plan_id"]
    outcomes = _invoke_in_threads(rig, [event, dict(event)])

    assert all(isinstance(o, dict) for o in outcomes), outcomes
    statuses = sorted(o["status"] for o in outcomes)
    # The loser either saw the claim in progress, or (if the winner had finished) its summary.
    assert statuses in (["SKIPPED", "SUCCEEDED"], ["SUCCEEDED", "SUCCEEDED"]), outcomes
    rig.assert_invariant(plan_id)
    assert len(rig.attempt_docs(plan_id)) == 1  # exactly one execution was recorded
    # one POST per order sent (a replacement comes from a PATCH, not a POST)
    sent = [o for o in rig.orders(plan_id) if o.get("replaces") is None]
    assert rig.order_posts() == len(sent)


@pytest.mark.parametrize("lock_table", ["set", "unset"])
def test_second_plan_for_a_busy_account_is_retried_later_not_interleaved(
    rig: Rig, lock_table: str
) -> None:
    """Plan A holds the account; plan B arrives meanwhile, sends nothing and raises
    AccountBusyError (claim released); redelivered after A, B runs. Without LOCK_TABLE the
    lease lives in the idempotency table: the lock is never off (SPEC §3.4)."""
    a_submitting = threading.Event()
    b_done = threading.Event()

    def pause_first_submit(name: str, _number: int) -> None:
        if name == "submit_order" and not a_submitting.is_set():
            a_submitting.set()
            b_done.wait(timeout=30)

    def wrap(inner: BrokerPort) -> BrokerPort:
        return InterceptingBroker(inner, pause_first_submit)

    lock_env = {} if lock_table == "set" else {"LOCK_TABLE": None}
    rig.rebuild(wrap, EXECUTION_POLICY="market", **lock_env)
    event_a, event_b = rig.event(ITEMS), rig.event([("QQQ", "BUY", "2000")])
    outcome_a: list[Any] = []
    thread_a = threading.Thread(target=lambda: outcome_a.append(rig.invoke(event_a)))
    thread_a.start()
    assert a_submitting.wait(timeout=30)
    try:
        with pytest.raises(AccountBusyError):
            rig.invoke(event_b)
        assert rig.orders(event_b["detail"]["plan_id"]) == []
    finally:
        b_done.set()
        thread_a.join(timeout=60)
    assert outcome_a[0]["status"] == "SUCCEEDED"
    # only A's claim (B's was released) and no lease left behind
    [claim] = boto3.client("dynamodb").scan(TableName=rig.resources.table)["Items"]
    assert claim["status"]["S"] == "COMPLETED"

    assert rig.invoke(event_b)["status"] == "SUCCEEDED"
    rig.assert_invariant(event_a["detail"]["plan_id"])
    rig.assert_invariant(event_b["detail"]["plan_id"])
