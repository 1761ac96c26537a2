"""Account lock (SPEC §5) against DynamoDB emulated by moto: one plan per account at a time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws
from mypy_boto3_dynamodb.client import DynamoDBClient

from rebalance_executor.adapters.account_lock import DynamoDbAccountLock
from rebalance_executor.domain.locks import (
    AccountBusyError,
    LockStoreUnavailableError,
    account_key_for,
    hold_account,
)

TABLE = "rebalance-locks"
KEY_ID = "PKTESTKEYID0001"


@dataclass
class ManualClock:
    """Our own Clock port with a hand-moved wall clock (no sleeping, no timing assertions)."""

    current: datetime = field(default_factory=lambda: datetime(2025, 1, 2, 15, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.current.timestamp()

    async def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def create_lock_table(client: DynamoDBClient, name: str = TABLE) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_lock_table(client)
        yield client


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def lock(ddb: DynamoDBClient, clock: ManualClock) -> DynamoDbAccountLock:
    return DynamoDbAccountLock(ddb, TABLE, clock=clock)


def _stored_item(ddb: DynamoDBClient, account_key: str) -> dict[str, str]:
    item = ddb.get_item(TableName=TABLE, Key={"id": {"S": account_key}}).get("Item", {})
    return {k: next(iter(v.values())) for k, v in item.items()}  # type: ignore[misc]


def test_account_key_is_a_hash_never_the_key_itself() -> None:
    key = account_key_for(KEY_ID)
    assert KEY_ID not in key
    assert key == account_key_for(KEY_ID)
    assert key != account_key_for(KEY_ID + "X")
    with pytest.raises(ValueError, match="empty"):
        account_key_for("")


def test_second_owner_is_refused_until_release(
    lock: DynamoDbAccountLock, ddb: DynamoDBClient, clock: ManualClock
) -> None:
    key = account_key_for(KEY_ID)

    async def scenario() -> list[bool]:
        first = await lock.acquire(key, "plan-a", ttl_s=300)
        second = await lock.acquire(key, "plan-b", ttl_s=300)
        stolen_release = await lock.release(key, "plan-b")
        released = await lock.release(key, "plan-a")
        after = await lock.acquire(key, "plan-b", ttl_s=300)
        return [first, second, stolen_release, released, after]

    assert asyncio.run(scenario()) == [True, False, False, True, True]
    stored = _stored_item(ddb, key)
    assert stored["owner"] == "plan-b"
    assert int(stored["expiration"]) >= clock.now().timestamp() + 300


def test_owner_renews_its_own_lease(lock: DynamoDbAccountLock, ddb: DynamoDBClient) -> None:
    """A redelivery of the same plan (same owner) may re-take its own lease."""
    key = account_key_for(KEY_ID)

    async def scenario() -> tuple[bool, bool]:
        return await lock.acquire(key, "plan-a", 60), await lock.acquire(key, "plan-a", 600)

    assert asyncio.run(scenario()) == (True, True)
    assert _stored_item(ddb, key)["owner"] == "plan-a"


def test_expired_lease_is_taken_over_and_old_owner_cannot_free_it(
    lock: DynamoDbAccountLock, ddb: DynamoDBClient, clock: ManualClock
) -> None:
    key = account_key_for(KEY_ID)

    async def scenario() -> list[bool]:
        outcomes = [await lock.acquire(key, "crashed-plan", ttl_s=30)]
        clock.current += timedelta(seconds=29)
        outcomes.append(await lock.acquire(key, "plan-b", ttl_s=30))  # still live
        clock.current += timedelta(seconds=3)
        outcomes.append(await lock.acquire(key, "plan-b", ttl_s=30))  # expired: taken over
        outcomes.append(await lock.release(key, "crashed-plan"))  # late release is refused
        return outcomes

    assert asyncio.run(scenario()) == [True, False, True, False]
    assert _stored_item(ddb, key)["owner"] == "plan-b"


def test_accounts_are_independent(lock: DynamoDbAccountLock) -> None:
    async def scenario() -> tuple[bool, bool]:
        a = await lock.acquire(account_key_for("KEY-A"), "plan-a", 60)
        b = await lock.acquire(account_key_for("KEY-B"), "plan-b", 60)
        return a, b

    assert asyncio.run(scenario()) == (True, True)


def test_two_threads_exactly_one_acquires_then_the_other_after_release(
    lock: DynamoDbAccountLock,
) -> None:
    key = account_key_for(KEY_ID)
    barrier = threading.Barrier(2)
    outcomes: dict[str, bool] = {}

    def contender(owner: str) -> None:
        barrier.wait()
        outcomes[owner] = asyncio.run(lock.acquire(key, owner, ttl_s=120))

    threads = [threading.Thread(target=contender, args=(o,)) for o in ("plan-a", "plan-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == [False, True]
    winner = next(o for o, won in outcomes.items() if won)
    loser = next(o for o, won in outcomes.items() if not won)

    assert asyncio.run(lock.release(key, winner)) is True
    assert asyncio.run(lock.acquire(key, loser, ttl_s=120)) is True


def test_hold_account_serialises_and_releases_on_error(lock: DynamoDbAccountLock) -> None:
    key = account_key_for(KEY_ID)

    class BoomError(RuntimeError):
        pass

    async def scenario() -> None:
        async with hold_account(lock, key, "plan-a", 60):
            with pytest.raises(AccountBusyError) as busy:
                async with hold_account(lock, key, "plan-b", 60):
                    pytest.fail("second plan entered a busy account")
            assert busy.value.owner == "plan-b"
            assert KEY_ID not in str(busy.value)
        with pytest.raises(BoomError):
            async with hold_account(lock, key, "plan-b", 60):
                raise BoomError
        # plan-b's failure released the lease: plan-c gets in.
        assert await lock.acquire(key, "plan-c", 60)

    asyncio.run(scenario())


def test_missing_table_fails_closed(ddb: DynamoDBClient, clock: ManualClock) -> None:
    lock = DynamoDbAccountLock(ddb, "no-such-table", clock=clock)
    key = account_key_for(KEY_ID)
    with pytest.raises(LockStoreUnavailableError):
        asyncio.run(lock.acquire(key, "plan-a", 60))

    async def guarded() -> None:
        async with hold_account(lock, key, "plan-a", 60):
            pytest.fail("traded without the lock")

    with pytest.raises(LockStoreUnavailableError):
        asyncio.run(guarded())


def test_unreachable_endpoint_fails_closed(clock: ManualClock) -> None:
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1}),
    )
    lock = DynamoDbAccountLock(client, TABLE, clock=clock)
    with pytest.raises(LockStoreUnavailableError):
        asyncio.run(lock.acquire(account_key_for(KEY_ID), "plan-a", 60))


@pytest.mark.parametrize("ttl", [0, -1.0])
def test_non_positive_ttl_is_refused(lock: DynamoDbAccountLock, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        asyncio.run(lock.acquire(account_key_for(KEY_ID), "plan-a", ttl))
