"""DynamoDB implementation of the account lock port (SPEC §5).

One item per Alpaca account on ``LOCK_TABLE``, or on ``IDEMPOTENCY_TABLE`` when no lock table is
set (SPEC §3.4: the lock is never off). Both share Powertools' schema — hash key ``id`` (S), TTL
attribute ``expiration`` (epoch seconds) — and the ``account#`` keys cannot collide with the
idempotency records' ``rebalance-executor#plan#`` keys.

Acquire is one conditional ``PutItem``: it succeeds when no lease exists, the lease expired, or
the caller already owns it (a redelivery of the same plan renews its own lease). Release is a
``DeleteItem`` conditioned on the owner, so a plan whose lease expired and was taken over can
never free the new owner's lease.

DynamoDB's TTL sweeper deletes expired items only eventually, so expiry is enforced by the
condition expression itself, not by the sweeper.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from rebalance_executor.domain.clock import Clock, SystemClock
from rebalance_executor.domain.locks import LockStoreUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

logger = logging.getLogger(__name__)

_CONDITION_FAILED = "ConditionalCheckFailedException"
# "owner" is a DynamoDB reserved word: every attribute goes through a name placeholder.
_ACQUIRE_CONDITION = "attribute_not_exists(#id) OR #expiration < :now OR #owner = :me"
_RELEASE_CONDITION = "#owner = :me"


class DynamoDbAccountLock:
    """Account lock on a DynamoDB table; safe across threads, processes and Lambda containers.

    The boto3 client is thread-safe; each call runs in a worker thread so the event loop keeps
    working other items. Raises LockStoreUnavailableError on any store failure (fail closed).
    """

    def __init__(self, client: DynamoDBClient, table_name: str, clock: Clock | None = None) -> None:
        if not table_name:
            raise ValueError("table_name must not be empty")
        self._client = client
        self._table = table_name
        self._clock: Clock = clock or SystemClock()

    async def acquire(self, account_key: str, owner: str, ttl_s: float) -> bool:
        """Take or renew the lease; False when another owner holds an unexpired one."""
        if not ttl_s > 0:
            raise ValueError(f"ttl_s must be positive, got {ttl_s}")
        return await asyncio.to_thread(self._acquire, account_key, owner, ttl_s)

    async def release(self, account_key: str, owner: str) -> bool:
        """Delete the lease if ``owner`` holds it; False when it is gone or owned by another."""
        return await asyncio.to_thread(self._release, account_key, owner)

    def _now_epoch(self) -> float:
        return self._clock.now().timestamp()

    def _acquire(self, account_key: str, owner: str, ttl_s: float) -> bool:
        now = self._now_epoch()
        expires_at = math.ceil(now + ttl_s)
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": account_key},
                    "owner": {"S": owner},
                    "expiration": {"N": str(expires_at)},
                    "acquired_at": {"N": str(math.floor(now))},
                },
                ConditionExpression=_ACQUIRE_CONDITION,
                ExpressionAttributeNames={
                    "#id": "id",
                    "#expiration": "expiration",
                    "#owner": "owner",
                },
                ExpressionAttributeValues={
                    # A lease is live through its expiration second, hence floor(now).
                    ":now": {"N": str(math.floor(now))},
                    ":me": {"S": owner},
                },
            )
        except ClientError as exc:
            if _error_code(exc) == _CONDITION_FAILED:
                logger.info("account lock busy", extra={"account_key": account_key, "owner": owner})
                return False
            raise _unavailable("acquire", account_key, owner, exc) from exc
        except BotoCoreError as exc:
            raise _unavailable("acquire", account_key, owner, exc) from exc
        logger.info(
            "account lock acquired",
            extra={"account_key": account_key, "owner": owner, "expires_at": expires_at},
        )
        return True

    def _release(self, account_key: str, owner: str) -> bool:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"id": {"S": account_key}},
                ConditionExpression=_RELEASE_CONDITION,
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":me": {"S": owner}},
            )
        except ClientError as exc:
            if _error_code(exc) == _CONDITION_FAILED:
                logger.warning(
                    "account lock not held at release",
                    extra={"account_key": account_key, "owner": owner},
                )
                return False
            raise _unavailable("release", account_key, owner, exc) from exc
        except BotoCoreError as exc:
            raise _unavailable("release", account_key, owner, exc) from exc
        logger.info("account lock released", extra={"account_key": account_key, "owner": owner})
        return True


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _unavailable(
    op: str, account_key: str, owner: str, exc: ClientError | BotoCoreError
) -> LockStoreUnavailableError:
    logger.error(
        "account lock store unavailable",
        extra={"op": op, "account_key": account_key, "owner": owner, "error": str(exc)},
    )
    return LockStoreUnavailableError(f"account lock {op} failed: {exc}")
