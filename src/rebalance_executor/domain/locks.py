"""The account lock port (SPEC §5): at most one plan per Alpaca account executes at a time.

The lock is keyed by a stable hash of the Alpaca API key id (never the key itself) and owned by
the plan id. Locks expire so a crashed invocation cannot wedge an account: the TTL must cover the
invocation's remaining time, after which another plan may take the lock over.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

ACCOUNT_KEY_PREFIX = "account#"

logger = logging.getLogger(__name__)


class AccountLockError(Exception):
    """Base of every error the account lock raises."""


class AccountBusyError(AccountLockError):
    """Another plan holds this account's lock: retry later (the handler lets this escape).

    Raised only before any order was sent, so a retry is always safe.
    """

    def __init__(self, account_key: str, owner: str) -> None:
        super().__init__(f"account {account_key} is busy with another plan; {owner} retries later")
        self.account_key = account_key
        self.owner = owner


class LockStoreUnavailableError(AccountLockError):
    """The lock store could not be reached or refused the request: fail closed (do not trade)."""


def account_key_for(api_key_id: str) -> str:
    """The lock key of an Alpaca account: a SHA-256 digest of its API key id, never the key.

    Raises ValueError for an empty key id (a lock on "" would serialise unrelated accounts).
    """
    if not api_key_id:
        raise ValueError("api_key_id must not be empty")
    digest = hashlib.sha256(api_key_id.encode("utf-8")).hexdigest()
    return f"{ACCOUNT_KEY_PREFIX}{digest[:32]}"


class AccountLock(Protocol):
    """A mutual-exclusion lease per account. Implementations must be safe across processes."""

    async def acquire(self, account_key: str, owner: str, ttl_s: float) -> bool:
        """Take (or renew, when ``owner`` already holds it) the lease for ``ttl_s`` seconds.

        Returns False when another owner holds an unexpired lease. Raises
        LockStoreUnavailableError when the store cannot answer (callers must not trade).
        """
        ...

    async def release(self, account_key: str, owner: str) -> bool:
        """Drop the lease if ``owner`` still holds it; returns whether it was released.

        Raises LockStoreUnavailableError when the store cannot answer (the lease then expires).
        """
        ...


@asynccontextmanager
async def hold_account(
    lock: AccountLock, account_key: str, owner: str, ttl_s: float
) -> AsyncIterator[None]:
    """Hold the account's lease for the duration of the block, releasing it on every exit.

    Raises AccountBusyError when another plan holds the lease, LockStoreUnavailableError when
    the store is unreachable (fail closed). A failed release is not raised over the block's own
    outcome: the lease expires on its own.
    """
    if not await lock.acquire(account_key, owner, ttl_s):
        raise AccountBusyError(account_key, owner)
    try:
        yield
    finally:
        try:
            await lock.release(account_key, owner)
        except LockStoreUnavailableError as exc:
            # The lease expires after ttl_s; masking the block's outcome would be worse.
            logger.warning(
                "account lock release failed",
                extra={"account_key": account_key, "owner": owner, "error": str(exc)},
            )
