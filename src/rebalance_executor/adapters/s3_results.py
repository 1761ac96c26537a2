"""Execution records in S3 (SPEC §3.3): result, original event, per-attempt records, fill ledger.

Layout under the results bucket::

    executions/date=YYYY-MM-DD/plan_id=<id>/result.json        latest attempt's result document
    executions/date=YYYY-MM-DD/plan_id=<id>/event.json         the event, for replay
    executions/date=YYYY-MM-DD/plan_id=<id>/attempts/<n>.json  every attempt's record (survives)
    ledger/date=YYYY-MM-DD/plan_id=<id>/fills-<n>.jsonl        one line per filled order
    rejected/date=YYYY-MM-DD/event_id=<id>/{result,event}.json events rejected before the claim

Rejected-before-claim events (invalid, or a plan_id reused for a different plan) live under
``rejected/`` so they can never overwrite the record of a real execution of the same plan_id.
Each ledger file is a snapshot of the plan's filled orders as of that attempt (a retry adopts the
earlier attempt's orders): deduplicate on ``broker_order_id`` keeping the highest ``attempt``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from rebalance_executor.domain.result import ExecutionResult, ExecutionSummary

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)


class ResultWriteError(Exception):
    """The result could not be written to S3 within the client's retry budget (handler raises)."""


class ResultReadError(Exception):
    """A stored document is missing or unreadable."""


@dataclass(frozen=True)
class RecordLocation:
    """Where one execution's (or one rejection's) documents live."""

    bucket: str
    prefix: str

    @property
    def result_key(self) -> str:
        return f"{self.prefix}/result.json"

    @property
    def event_key(self) -> str:
        return f"{self.prefix}/event.json"

    @property
    def result_uri(self) -> str:
        return f"s3://{self.bucket}/{self.result_key}"

    def attempt_key(self, attempt: int) -> str:
        return f"{self.prefix}/attempts/{attempt}.json"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into bucket and key; raises ValueError for anything else."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    if not bucket or not key:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    return bucket, key


class S3ResultsStore:
    """Writes and reads execution records.

    Retries are botocore's (the client's ``standard`` mode and attempt budget, set up by
    ``adapters.aws_config``); a write that still fails raises ResultWriteError.
    """

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def execution_location(self, plan_id: str, plan_timestamp: datetime) -> RecordLocation:
        """Location of a claimed plan's records (date from the plan timestamp, SPEC §3.3)."""
        day = plan_timestamp.date().isoformat()
        return RecordLocation(self._bucket, f"executions/date={day}/plan_id={plan_id}")

    def rejection_location(self, event_id: str, received_at: datetime) -> RecordLocation:
        """Location of an event rejected before the idempotency claim."""
        day = received_at.date().isoformat()
        return RecordLocation(self._bucket, f"rejected/date={day}/event_id={event_id}")

    def next_attempt(self, location: RecordLocation) -> int:
        """1 + the number of attempt records already stored. Raises ResultWriteError."""
        prefix = f"{location.prefix}/attempts/"
        count = 0
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("ListObjectsV2", partial(self._s3.list_objects_v2, **kwargs))
            count += int(page.get("KeyCount", 0))
            if not page.get("IsTruncated"):
                return count + 1
            token = page.get("NextContinuationToken")

    def write(
        self,
        location: RecordLocation,
        result: ExecutionResult,
        summary: ExecutionSummary,
        *,
        raw_event: Mapping[str, Any],
        request_id: str,
    ) -> None:
        """Write event, attempt record, fill ledger, then result.json (last: it marks completion).

        Raises ResultWriteError when any write still fails after the bounded retries.
        """
        document = result.model_dump(mode="json")
        self._put(location.event_key, raw_event)
        attempt_record = {
            "attempt": summary.attempt,
            "aws_request_id": request_id,
            "summary": summary.model_dump(mode="json"),
            "result": document,
        }
        self._put(location.attempt_key(summary.attempt), attempt_record)
        ledger = ledger_lines(result, summary.attempt)
        if ledger and location.prefix.startswith("executions/"):
            day = location.prefix.split("/")[1]
            key = f"ledger/{day}/plan_id={result.plan_id}/fills-{summary.attempt}.jsonl"
            self._put_bytes(key, "".join(json.dumps(line) + "\n" for line in ledger).encode())
        self._put(location.result_key, document)
        logger.info(
            "result written",
            extra={
                "result_uri": location.result_uri,
                "attempt_key": location.attempt_key(summary.attempt),
            },
        )

    def read_json(self, bucket: str, key: str) -> dict[str, Any]:
        """Read one JSON document. Raises ResultReadError when missing or not a JSON object."""
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            loaded = json.loads(body)
        except (ClientError, BotoCoreError, json.JSONDecodeError) as exc:
            raise ResultReadError(f"cannot read s3://{bucket}/{key}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ResultReadError(f"s3://{bucket}/{key} is not a JSON object")
        return loaded

    def _put(self, key: str, document: Mapping[str, Any]) -> None:
        self._put_bytes(key, json.dumps(document, sort_keys=True).encode())

    def _put_bytes(self, key: str, body: bytes) -> None:
        self._call(
            "PutObject",
            partial(
                self._s3.put_object,
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
            ),
        )

    def _call(self, operation: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except (ClientError, BotoCoreError) as exc:
            logger.warning("s3 call failed", extra={"operation": operation, "error": str(exc)})
            raise ResultWriteError(
                f"S3 {operation} on bucket {self._bucket} failed: {exc}"
            ) from exc


def ledger_lines(result: ExecutionResult, attempt: int) -> list[dict[str, Any]]:
    """One flat row per order with a fill, as broker-reported (for Athena)."""
    rows: list[dict[str, Any]] = []
    for item in result.items:
        for order in item.orders:
            if order.filled_qty <= 0 or order.filled_avg_price is None:
                continue
            rows.append(
                {
                    "plan_id": result.plan_id,
                    "attempt": attempt,
                    "item_index": item.index,
                    "symbol": item.symbol,
                    "side": order.side.value,
                    "client_order_id": order.client_order_id,
                    "broker_order_id": order.broker_order_id,
                    "order_type": order.type.value,
                    "filled_qty": str(order.filled_qty),
                    "filled_avg_price": str(order.filled_avg_price),
                    "filled_notional": str(order.filled_qty * order.filled_avg_price),
                    "status": order.status.value,
                    "updated_at": order.updated_at.isoformat() if order.updated_at else None,
                }
            )
    return rows
