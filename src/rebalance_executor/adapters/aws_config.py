"""Every AWS call fits inside the Lambda's time (SPEC §4.6, §4.7).

Two bounds, both derived from ``DEADLINE_RESERVE_S`` (see docs/lambda.md, "AWS time budget"):

* **Per call** (:class:`AwsCallBudget`): connect/read timeouts and botocore's ``standard``
  retry mode with ``total_max_attempts``, so one API call — every attempt and backoff included —
  lasts at most ``per_call_s``. The executor spends half the reserve on cancels and final reads
  (``executor.phases``); the other half is for the writes, and one call at its maximum must fit
  there.
* **Per invocation** (:func:`invocation_window`): a botocore ``before-call`` hook refuses to
  *start* a call when the Lambda has less than ``per_call_s`` plus a margin left, raising
  :class:`AwsWindowClosedError`. It is a ``BotoCoreError``, so each adapter's ordinary failure
  path applies (the handler raises, Lambda retries, the retry reconciles and writes). A run of
  slow-but-successful calls therefore cannot carry the invocation past its timeout either.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError

#: Share of the reserve left for AWS writes (the executor's wind-down takes the other half).
AWS_SHARE_OF_RESERVE: Final = 0.5
#: Attempts per call at most; standard mode backs off up to 2**(n-1) s before attempt n+1.
MAX_ATTEMPTS: Final = 3
#: An attempt shorter than this (connect + read) would time out healthy calls.
MIN_ATTEMPT_S: Final = 1.5
#: Returning, the Powertools bookkeeping and the metrics flush after the last AWS call.
WINDOW_MARGIN_S: Final = 0.5
_MAX_CONNECT_S: Final = 2.0
_MAX_READ_S: Final = 10.0

ClientT = TypeVar("ClientT", bound=BaseClient)

# The wall-clock monotonic instant after which no AWS call may start (None: no invocation).
_window_closes_at: ContextVar[float | None] = ContextVar("aws_window_closes_at", default=None)


class AwsWindowClosedError(BotoCoreError):
    """An AWS call was not started: it could outlast the Lambda's remaining time."""

    fmt = "AWS call {operation} not started: {remaining_s:.1f}s left, a call may take {need_s:.1f}s"


class RemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def _floor_ms(seconds: float) -> float:
    return math.floor(seconds * 1000) / 1000


def _max_backoff_s(attempts: int) -> float:
    """Upper bound of standard mode's jittered backoff sum over ``attempts`` attempts."""
    return float(2 ** (attempts - 1) - 1)


@dataclass(frozen=True)
class AwsCallBudget:
    """Timeouts and retry budget for every boto3 client of the handler."""

    connect_timeout_s: float
    read_timeout_s: float
    max_attempts: int

    @classmethod
    def from_reserve(cls, reserve_s: float) -> AwsCallBudget:
        """The largest attempt count (≤ MAX_ATTEMPTS) whose attempts still get MIN_ATTEMPT_S each
        within the reserve's AWS share; each attempt splits 1:2 into connect and read."""
        per_call_s = reserve_s * AWS_SHARE_OF_RESERVE
        attempts = 1
        for candidate in range(MAX_ATTEMPTS, 1, -1):
            if (per_call_s - _max_backoff_s(candidate)) / candidate >= MIN_ATTEMPT_S:
                attempts = candidate
                break
        per_attempt_s = max((per_call_s - _max_backoff_s(attempts)) / attempts, 0.3)
        return cls(
            connect_timeout_s=_floor_ms(min(per_attempt_s / 3, _MAX_CONNECT_S)),
            read_timeout_s=_floor_ms(min(per_attempt_s * 2 / 3, _MAX_READ_S)),
            max_attempts=attempts,
        )

    @property
    def per_call_s(self) -> float:
        """Longest one API call can take, retries and backoff included."""
        attempt_s = self.connect_timeout_s + self.read_timeout_s
        return self.max_attempts * attempt_s + _max_backoff_s(self.max_attempts)

    def botocore_config(self) -> Config:
        return Config(
            connect_timeout=self.connect_timeout_s,
            read_timeout=self.read_timeout_s,
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
        )

    def bounded(self, client: ClientT) -> ClientT:
        """``client`` (built with :meth:`botocore_config`) with the invocation-window check."""
        client.meta.events.register("before-call", self._refuse_if_window_closed)
        return client

    def _refuse_if_window_closed(self, model: Any, **_: Any) -> None:
        closes_at = _window_closes_at.get()
        if closes_at is None:
            return
        remaining_s = closes_at - time.monotonic()
        if remaining_s < self.per_call_s:
            raise AwsWindowClosedError(
                operation=getattr(model, "name", "?"),
                remaining_s=remaining_s,
                need_s=self.per_call_s,
            )


@contextmanager
def invocation_window(context: RemainingTime) -> Iterator[None]:
    """Within the block, AWS calls start only while one can finish before the Lambda timeout.

    The Lambda's remaining time is read once and fixed on the wall clock (botocore's timeouts
    are wall-clock seconds too).
    """
    remaining_s = context.get_remaining_time_in_millis() / 1000
    token = _window_closes_at.set(time.monotonic() + remaining_s - WINDOW_MARGIN_S)
    try:
        yield
    finally:
        _window_closes_at.reset(token)
