"""Outcome events on EventBridge (SPEC §3.3): ``RebalanceExecuted`` / ``RebalanceFailed``.

A conflicting duplicate (a reused ``plan_id`` with a different plan) is announced as
``RebalanceDuplicateRejected``: it is not the plan's outcome, and a consumer of the outcome
events must never read it as one (docs/lambda.md, "Outcome events").
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from rebalance_executor.domain.result import ExecutionStatus, ExecutionSummary

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

logger = logging.getLogger(__name__)

EVENT_SOURCE = "rebalance.executor"
DETAIL_EXECUTED = "RebalanceExecuted"
DETAIL_FAILED = "RebalanceFailed"
DETAIL_DUPLICATE_REJECTED = "RebalanceDuplicateRejected"
_FAILED = frozenset({ExecutionStatus.FAILED, ExecutionStatus.REJECTED})


class PublishError(Exception):
    """The outcome event could not be published (the result itself is already in S3)."""


def detail_type_for(status: ExecutionStatus) -> str:
    """``RebalanceFailed`` for FAILED and REJECTED, ``RebalanceExecuted`` otherwise."""
    return DETAIL_FAILED if status in _FAILED else DETAIL_EXECUTED


class EventBusPublisher:
    """Publishes one event per finished execution, with the summary as ``detail``."""

    def __init__(self, client: EventBridgeClient, bus_name: str) -> None:
        self._events = client
        self._bus = bus_name

    def publish(
        self,
        summary: ExecutionSummary,
        *,
        correlation_id: str | None,
        detail_type: str | None = None,
    ) -> None:
        """Put the event (``detail_type`` defaults to the status's outcome type).

        Raises PublishError on an API error or a failed entry.
        """
        detail = {"summary": summary.model_dump(mode="json"), "correlation_id": correlation_id}
        detail_type = detail_type or detail_type_for(summary.status)
        try:
            response = self._events.put_events(
                Entries=[
                    {
                        "Source": EVENT_SOURCE,
                        "DetailType": detail_type,
                        "Detail": json.dumps(detail),
                        "EventBusName": self._bus,
                    }
                ]
            )
        except (ClientError, BotoCoreError) as exc:
            raise PublishError(f"put_events to {self._bus} failed: {exc}") from exc
        if response.get("FailedEntryCount", 0):
            entry = response["Entries"][0]
            raise PublishError(
                f"put_events to {self._bus} rejected the entry: {entry.get('ErrorCode')} "
                f"{entry.get('ErrorMessage')}"
            )
        logger.info(
            "outcome event published",
            extra={"detail_type": detail_type, "bus": self._bus},
        )
