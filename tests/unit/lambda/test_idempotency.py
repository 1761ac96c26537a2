"""Powertools idempotency on moto DynamoDB: once per plan_id, validation, release on raise."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from rebalance_executor.adapters.idempotency import (
    KEY_PREFIX,
    ClaimPayload,
    claim_payload,
    idempotency_config,
    persistence_layer,
    run_once,
)
from rebalance_executor.cli.local_aws import LocalResources
from rebalance_executor.domain.plan import RebalancePlan
from rebalance_executor.lambda_context import CountdownContext


def _plan(amount: str = "100", correlation_id: str = "c-1") -> RebalancePlan:
    return RebalancePlan.model_validate(
        {
            "plan_id": "plan-idem-1",
            "correlation_id": correlation_id,
            "timestamp": datetime(2026, 1, 5, 15, tzinfo=UTC),
            "items": [{"symbol": "SPY", "action": "BUY", "trade_amount": Decimal(amount)}],
        }
    )


class Runner:
    def __init__(self, table: str) -> None:
        self.persistence = persistence_layer(boto3.client("dynamodb"), table)
        self.calls = 0

    def run(self, payload: ClaimPayload, core: Any = None) -> dict[str, Any]:
        def default_core(_: ClaimPayload) -> dict[str, Any]:
            self.calls += 1
            return {"status": "SUCCEEDED", "calls": self.calls}

        return run_once(
            core or default_core,
            payload,
            persistence=self.persistence,
            config=idempotency_config(900),
            context=CountdownContext(timeout_s=60),  # type: ignore[arg-type]
        )


def test_second_delivery_returns_stored_response(aws_env: LocalResources) -> None:
    runner = Runner(aws_env.table)
    first = runner.run(claim_payload(_plan()))
    # a redelivery with another correlation id is the same plan
    second = runner.run(claim_payload(_plan(correlation_id="c-other")))
    assert first == second == {"status": "SUCCEEDED", "calls": 1}
    assert runner.calls == 1
    items = boto3.client("dynamodb").scan(TableName=aws_env.table)["Items"]
    assert len(items) == 1
    assert items[0]["id"]["S"].startswith(f"{KEY_PREFIX}#")
    assert items[0]["status"]["S"] == "COMPLETED"
    assert int(items[0]["expiration"]["N"]) > 0


def test_same_plan_id_different_plan_fails_validation(aws_env: LocalResources) -> None:
    runner = Runner(aws_env.table)
    runner.run(claim_payload(_plan("100")))
    with pytest.raises(IdempotencyValidationError):
        runner.run(claim_payload(_plan("200")))
    assert runner.calls == 1


def test_core_failure_releases_the_claim(aws_env: LocalResources) -> None:
    runner = Runner(aws_env.table)

    def failing(_: ClaimPayload) -> dict[str, Any]:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        runner.run(claim_payload(_plan()), failing)
    assert runner.run(claim_payload(_plan()))["calls"] == 1


def test_concurrent_duplicate_is_in_progress(aws_env: LocalResources) -> None:
    runner = Runner(aws_env.table)
    seen: list[type[BaseException]] = []

    def nested(payload: ClaimPayload) -> dict[str, Any]:
        # a second delivery arriving while the first still holds the claim
        with pytest.raises(IdempotencyAlreadyInProgressError) as info:
            Runner(aws_env.table).run(payload)
        seen.append(info.type)
        return {"status": "SUCCEEDED"}

    runner.run(claim_payload(_plan()), nested)
    assert seen == [IdempotencyAlreadyInProgressError]


def test_expiry_covers_plan_age() -> None:
    assert idempotency_config(900).expires_after_seconds >= 900
    assert idempotency_config(7 * 24 * 3600).expires_after_seconds == 7 * 24 * 3600
