"""Powertools idempotency on DynamoDB (SPEC §5): one execution per ``plan_id``.

The idempotent core receives a normalised *claim payload* ``{"plan_id": ..., "plan": {...}}``
built from the parsed plan, so both event shapes (plan as ``detail`` or
``detail.rebalance_plan``) and redeliveries with a new EventBridge id claim the same record.
The payload hash covers the plan's trading content (not its tracing ids), so the same
``plan_id`` with a different plan fails validation instead of returning the old summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from botocore.exceptions import ClientError

from rebalance_executor.domain.plan import RebalancePlan

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

# Stable across deployments and code moves (the default prefix embeds the module path and the
# function name, so a refactor or rename would silently re-execute every recent plan).
KEY_PREFIX = "rebalance-executor#plan"
PAYLOAD_KEY = "payload"
# Redeliveries can arrive hours later; a record must outlive the plan's maximum age so a late
# duplicate is answered from the record (a stale plan would be REJECTED anyway).
MIN_EXPIRY_S = 24 * 3600

ClaimPayload = dict[str, Any]
Core = Callable[..., dict[str, Any]]


def claim_payload(plan: RebalancePlan) -> ClaimPayload:
    """The data the idempotency key and payload hash are computed from."""
    content = plan.model_dump(mode="json", exclude={"correlation_id", "causation_id"})
    return {"plan_id": plan.plan_id, "plan": content}


def idempotency_config(max_plan_age_s: float) -> IdempotencyConfig:
    """Key ``plan_id`` (required), validation over the plan, expiry ≥ the plan's max age."""
    return IdempotencyConfig(
        event_key_jmespath="plan_id",
        payload_validation_jmespath="plan",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=max(int(max_plan_age_s), MIN_EXPIRY_S),
    )


def persistence_layer(client: DynamoDBClient, table_name: str) -> DynamoDBPersistenceLayer:
    """Powertools' table schema: hash key ``id`` (S), TTL attribute ``expiration``."""
    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)


def key_schema_problem(client: DynamoDBClient, table_name: str) -> str | None:
    """Why ``table_name`` cannot hold idempotency records and account leases, or None.

    One DescribeTable call. The schema is Powertools': a single hash key ``id`` of type S.
    Raises botocore errors other than "table not found" (throttling, network, access denied).
    """
    try:
        table = client.describe_table(TableName=table_name)["Table"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return "does not exist"
        raise
    keys = [(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])]
    types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
    if keys != [("id", "HASH")] or types.get("id") != "S":
        found = ", ".join(f"{name} {kind} {types.get(name, '?')}" for name, kind in keys)
        return f"must have exactly the hash key id of type S (found: {found or 'none'})"
    return None


def run_once(
    core: Callable[[ClaimPayload], dict[str, Any]],
    payload: ClaimPayload,
    *,
    persistence: DynamoDBPersistenceLayer,
    config: IdempotencyConfig,
    context: LambdaContext,
) -> dict[str, Any]:
    """Run ``core(payload)`` at most once per ``plan_id``.

    Returns the stored response for a completed duplicate. Raises Powertools'
    IdempotencyAlreadyInProgressError (concurrent duplicate), IdempotencyValidationError (same
    key, different plan), IdempotencyPersistenceLayerError (DynamoDB unreachable), or whatever
    ``core`` raised (the in-progress record is then deleted so a retry can run).
    """
    # Registering the context makes an in-progress claim expire with this invocation, so a
    # crashed or timed-out attempt does not block its retry until the record's full expiry.
    config.register_lambda_context(context)

    def _core(payload: ClaimPayload) -> dict[str, Any]:
        return core(payload)

    wrapped = idempotent_function(
        _core,
        data_keyword_argument=PAYLOAD_KEY,
        persistence_store=persistence,
        config=config,
        key_prefix=KEY_PREFIX,
    )
    result: dict[str, Any] = wrapped(payload=payload)
    return result
