"""Security properties of template.yaml (issue 7, SPEC §6): least privilege, encryption, TLS."""

from __future__ import annotations

from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from tests.unit.infra.cfn import ROOT, Evaluator, load_template, resources

TEMPLATE = load_template()
# The only actions AWS offers no resource-level permission for.
RESOURCE_STAR_ALLOWED = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
DATA_KEY = {"Ref": "DataKey"}
DATA_KEY_ARN = {"Fn::GetAtt": ["DataKey", "Arn"]}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, role in resources(TEMPLATE, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                found.append((name, statement))
    return found


def test_roles_have_statements() -> None:
    roles = {name for name, _ in _role_statements()}
    assert roles == {"RebalanceExecutorRole", "SchedulerRole"}


@pytest.mark.parametrize(("role", "statement"), _role_statements())
def test_no_wildcard_actions_in_roles(role: str, statement: dict[str, Any]) -> None:
    for action in _as_list(statement["Action"]):
        assert action != "*", role
        assert not action.endswith(":*"), f"{role} {statement.get('Sid')}: {action}"


@pytest.mark.parametrize(("role", "statement"), _role_statements())
def test_resource_star_only_where_aws_has_no_resource_level_permission(
    role: str, statement: dict[str, Any]
) -> None:
    if "*" in _as_list(statement["Resource"]):
        assert set(_as_list(statement["Action"])) <= RESOURCE_STAR_ALLOWED, statement.get("Sid")


def test_function_uses_the_least_privilege_role_not_sam_managed_policies() -> None:
    function = TEMPLATE["Resources"]["RebalanceExecutorFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["RebalanceExecutorRole", "Arn"]}
    assert "Policies" not in function


def test_function_role_actions_name_their_resources() -> None:
    statements = {s["Sid"]: s for n, s in _role_statements() if n == "RebalanceExecutorRole"}
    tables = [{"Fn::GetAtt": ["IdempotencyTable", "Arn"]}, {"Fn::GetAtt": ["LockTable", "Arn"]}]
    assert statements["IdempotencyAndAccountLock"]["Resource"] == tables
    assert sorted(statements["IdempotencyAndAccountLock"]["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:DescribeTable",  # the key-schema check at cold start
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    assert statements["UseDataKey"]["Resource"] == DATA_KEY_ARN
    via_dynamodb = statements["UseDataKeyThroughDynamoDb"]
    assert via_dynamodb["Resource"] == DATA_KEY_ARN
    assert Evaluator(TEMPLATE).resolve(via_dynamodb["Condition"]) == {
        "StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}
    }
    assert statements["OnFailureDestination"]["Resource"] == {
        "Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]
    }
    evaluator = Evaluator(TEMPLATE)
    assert evaluator.resolve(statements["ReadKillSwitch"]["Resource"]) == (
        "arn:aws:ssm:us-east-1:123456789012:parameter/rebalance-executor/dev/kill-switch"
    )
    assert evaluator.resolve(statements["ReadAlpacaKeys"]["Resource"]) == "<AlpacaSecret>"
    external = "arn:aws:secretsmanager:us-east-1:123456789012:secret:alpaca-AbC123"
    assert (
        Evaluator(TEMPLATE, AlpacaSecretArn=external).resolve(
            statements["ReadAlpacaKeys"]["Resource"]
        )
        == external
    )
    s3_objects = evaluator.resolve(statements["ResultsReadWrite"]["Resource"])
    assert s3_objects == [
        f"<ResultsBucket.Arn>/{prefix}/*" for prefix in ("executions", "rejected", "ledger")
    ]


def _deny_insecure(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for s in policy["Statement"]
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]


def test_results_bucket_policy_denies_non_tls_on_bucket_and_objects() -> None:
    policy = TEMPLATE["Resources"]["ResultsBucketPolicy"]["Properties"]["PolicyDocument"]
    (deny,) = _deny_insecure(policy)
    assert deny["Principal"] == "*"
    assert deny["Action"] == "s3:*"
    resolved = Evaluator(TEMPLATE).resolve(deny["Resource"])
    assert resolved == ["<ResultsBucket.Arn>", "<ResultsBucket.Arn>/*"]


@pytest.mark.parametrize(
    "policy", ["DeliveryDeadLetterQueuePolicy", "FailedInvocationsQueuePolicy", "AlarmTopicPolicy"]
)
def test_queue_and_topic_policies_deny_non_tls(policy: str) -> None:
    assert _deny_insecure(TEMPLATE["Resources"][policy]["Properties"]["PolicyDocument"])


def test_results_bucket_is_versioned_kms_encrypted_private_and_owner_enforced() -> None:
    bucket = TEMPLATE["Resources"]["ResultsBucket"]
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": DATA_KEY_ARN,
    }
    assert rule["BucketKeyEnabled"] is True
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert "NoncurrentVersionExpiration" in rules["NoncurrentVersions"]
    assert bucket["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("table", ["IdempotencyTable", "LockTable"])
def test_tables_have_pitr_cmk_encryption_and_on_demand_billing(table: str) -> None:
    props = TEMPLATE["Resources"][table]["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": DATA_KEY,
    }
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"]["Enabled"] is True
    assert Evaluator(TEMPLATE, Stage="prod").resolve(props["DeletionProtectionEnabled"]) is True


def test_idempotency_table_matches_the_powertools_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    layer = DynamoDBPersistenceLayer(table_name="unused")
    props = TEMPLATE["Resources"]["IdempotencyTable"]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": layer.key_attr, "KeyType": "HASH"}]
    key = {"AttributeName": layer.key_attr, "AttributeType": "S"}
    assert props["AttributeDefinitions"] == [key]
    assert props["TimeToLiveSpecification"]["AttributeName"] == layer.expiry_attr


def test_every_store_and_channel_is_encrypted_with_the_rotating_data_key() -> None:
    res = TEMPLATE["Resources"]
    assert res["DataKey"]["Properties"]["EnableKeyRotation"] is True
    assert res["AlpacaSecret"]["Properties"]["KmsKeyId"] == DATA_KEY
    assert res["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == DATA_KEY
    assert res["FunctionLogGroup"]["Properties"]["KmsKeyId"] == DATA_KEY_ARN
    assert res["RebalanceExecutorFunction"]["Properties"]["KmsKeyArn"] == DATA_KEY_ARN
    for name, queue in resources(TEMPLATE, "AWS::SQS::Queue").items():
        assert queue["Properties"]["KmsMasterKeyId"] == DATA_KEY, name


def test_key_policy_grants_services_only_within_this_account_or_log_group() -> None:
    for statement in TEMPLATE["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]:
        principal = statement["Principal"]
        assert principal != "*"
        if "Service" in principal:
            assert statement["Condition"], statement["Sid"]
            assert not any(a == "kms:*" for a in _as_list(statement["Action"]))


def test_secret_template_holds_placeholders_only() -> None:
    secret = TEMPLATE["Resources"]["AlpacaSecret"]["Properties"]["SecretString"]
    assert set(yaml.safe_load(secret).values()) == {"REPLACE_ME"}


def test_every_checkov_suppression_carries_a_reason() -> None:
    skips = [
        skip
        for resource in TEMPLATE["Resources"].values()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for skip in skips:
        assert skip["id"].startswith("CKV")
        assert len(skip["comment"].split()) >= 8, skip["id"]
    config = yaml.safe_load((ROOT / ".checkov.yaml").read_text(encoding="utf-8"))
    assert "skip-check" not in config
    assert config["framework"] == ["cloudformation"]
