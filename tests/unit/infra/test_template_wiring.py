"""template.yaml wired to the code: env names, schedule payload, events, alarms, table schemas."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from moto import mock_aws

from rebalance_executor import observability
from rebalance_executor.adapters.account_lock import DynamoDbAccountLock
from rebalance_executor.adapters.idempotency import persistence_layer
from rebalance_executor.events import ScheduleEvent, parse_any_event
from rebalance_executor.settings import Settings, SettingsError, load_settings
from tests.unit.infra.cfn import ROOT, Evaluator, load_template, resources

TEMPLATE = load_template()
FUNCTION = TEMPLATE["Resources"]["RebalanceExecutorFunction"]
SPEC_3_4_NAMES = {
    "ALPACA_API_KEY",
    "ALPACA_SECRET_KEY",
    "ALPACA_SECRET_ID",
    "ALPACA_PAPER",
    "ALPACA_BASE_URL",
    "ALPACA_DATA_FEED",
    "AWS_ENDPOINT_URL",
    "RESULTS_BUCKET",
    "IDEMPOTENCY_TABLE",
    "LOCK_TABLE",
    "EVENT_BUS_NAME",
    "EXECUTION_POLICY",
    "MAX_PLAN_AGE_S",
    "KILL_SWITCH",
    "KILL_SWITCH_PARAMETER",
    "DRY_RUN",
    "MAX_ORDER_NOTIONAL",
    "MAX_PLAN_NOTIONAL",
    "MAX_PLAN_EQUITY_FRACTION",
    "CASH_RESERVE",
    "MIN_ORDER_NOTIONAL",
    "QUOTE_MAX_AGE_S",
    "MAX_SPREAD_BPS",
    "MAX_COLLAR_BPS",
    "MAX_REQUESTS_PER_MIN",
    "MAX_PLAN_ITEMS",
}
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
LOCAL_ONLY = {"ALPACA_BASE_URL", "ALPACA_API_KEY", "ALPACA_SECRET_KEY", "AWS_ENDPOINT_URL"}
SETTINGS_NAMES = {name.upper() for name in Settings.model_fields}


def _env(**overrides: str) -> dict[str, str]:
    variables = FUNCTION["Properties"]["Environment"]["Variables"]
    return {k: str(v) for k, v in Evaluator(TEMPLATE, **overrides).resolve(variables).items()}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SETTINGS_NAMES | POWERTOOLS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_env_names_are_the_public_contract() -> None:
    declared = set(FUNCTION["Properties"]["Environment"]["Variables"])
    assert declared - POWERTOOLS <= SETTINGS_NAMES
    assert declared - POWERTOOLS - {"ALPACA_ALLOW_LIVE"} <= SPEC_3_4_NAMES
    assert declared >= POWERTOOLS
    required = {
        "ALPACA_SECRET_ID",
        "ALPACA_PAPER",
        "RESULTS_BUCKET",
        "IDEMPOTENCY_TABLE",
        "LOCK_TABLE",
        "EVENT_BUS_NAME",
        "EXECUTION_POLICY",
        "KILL_SWITCH_PARAMETER",
        "MAX_PLAN_AGE_S",
    }
    assert required <= set(_env())


def test_local_only_variables_are_absent_from_deployed_stacks() -> None:
    deployed = _env()
    assert not LOCAL_ONLY & set(deployed)
    assert set(_env(LocalEmulation="true")) >= LOCAL_ONLY
    assert "ALPACA_SECRET_ID" not in _env(LocalEmulation="true")


@pytest.mark.parametrize(("mode", "paper"), [("paper", True), ("live", False)])
def test_deployed_environment_loads_settings(
    clean_env: pytest.MonkeyPatch, mode: str, paper: bool
) -> None:
    for name, value in _env(TradingMode=mode, MaxPlanNotional="100000").items():
        clean_env.setenv(name, value)
    settings = load_settings()
    assert settings.alpaca_paper is paper
    assert settings.max_plan_notional == Decimal(100000)
    # An unset cap parameter leaves the variable out, so the settings default applies.
    assert settings.max_order_notional == Settings.model_fields["max_order_notional"].default


def test_paper_is_the_default_and_live_without_template_switch_is_refused(
    clean_env: pytest.MonkeyPatch,
) -> None:
    env = _env()
    assert (env["ALPACA_PAPER"], env["ALPACA_ALLOW_LIVE"]) == ("true", "false")
    for name, value in env.items():
        clean_env.setenv(name, value)
    clean_env.setenv("ALPACA_PAPER", "false")
    with pytest.raises(SettingsError, match="ALPACA_ALLOW_LIVE"):
        load_settings()


def test_powertools_names_match_the_code() -> None:
    env = _env()
    assert env["POWERTOOLS_SERVICE_NAME"] == observability.SERVICE
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == observability.NAMESPACE


def _schedule() -> dict[str, Any]:
    properties: dict[str, Any] = FUNCTION["Properties"]["Events"]["TargetAllocation"]["Properties"]
    assert FUNCTION["Properties"]["Events"]["TargetAllocation"]["Type"] == "ScheduleV2"
    return properties


def test_schedule_runs_in_new_york_without_flexible_window_with_retries_and_dlq() -> None:
    schedule = Evaluator(TEMPLATE).resolve(_schedule())
    assert schedule["ScheduleExpressionTimezone"] == "America/New_York"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert schedule["DeadLetterConfig"] == {"Arn": "<DeliveryDeadLetterQueue.Arn>"}
    assert schedule["ScheduleExpression"].startswith("cron(45 15 ")
    assert schedule["State"] == "DISABLED"
    assert Evaluator(TEMPLATE, ScheduleEnabled="true").resolve(_schedule())["State"] == "ENABLED"


def test_schedule_input_is_a_valid_allocation_for_the_parser() -> None:
    schedule = Evaluator(TEMPLATE).resolve(_schedule())
    text = schedule["Input"].replace("<aws.scheduler.scheduled-time>", "2026-12-01T20:45:00Z")
    parsed = parse_any_event(json.loads(text))
    assert isinstance(parsed, ScheduleEvent)
    assert parsed.allocation.schedule_name == schedule["Name"]
    assert parsed.allocation.targets == {"SPY": Decimal("0.6"), "BND": Decimal("0.4")}
    # A redelivered tick carries the same scheduled time, hence the same plan_id.
    again = parse_any_event(json.loads(text))
    assert isinstance(again, ScheduleEvent)
    assert again.plan_id == parsed.plan_id


def test_planned_rule_matches_detail_type_with_retries_bounded_by_plan_age_and_dlq() -> None:
    rule = FUNCTION["Properties"]["Events"]["Planned"]
    assert rule["Type"] == "EventBridgeRule"
    props = Evaluator(TEMPLATE).resolve(rule["Properties"])
    assert props["Pattern"] == {"detail-type": ["RebalancePlanned"]}
    assert props["EventBusName"] == "<EventBus>"
    assert props["RetryPolicy"]["MaximumEventAgeInSeconds"] == "900"
    assert props["DeadLetterConfig"] == {"Arn": "<DeliveryDeadLetterQueue.Arn>"}


def test_async_failures_go_to_the_on_failure_queue() -> None:
    config = FUNCTION["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] in {0, 1, 2}
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]},
    }


def test_archive_keeps_planned_events_of_the_bus() -> None:
    archive = Evaluator(TEMPLATE).resolve(TEMPLATE["Resources"]["PlannedEventsArchive"])
    assert archive["Properties"]["SourceArn"] == "<EventBus.Arn>"
    assert archive["Properties"]["EventPattern"] == {"detail-type": ["RebalancePlanned"]}
    raw = TEMPLATE["Resources"]["PlannedEventsArchive"]["Properties"]
    external = Evaluator(TEMPLATE, EventBusName="portfolio").resolve(raw)
    assert external["SourceArn"].endswith(":event-bus/portfolio")


def test_function_runtime_and_handler() -> None:
    props = FUNCTION["Properties"]
    assert (props["Runtime"], props["Handler"]) == (
        "python3.13",
        "rebalance_executor.handler.lambda_handler",
    )
    assert props["Tracing"] == "Active"
    assert FUNCTION["Metadata"]["BuildMethod"] == "makefile"


def test_every_alarm_notifies_the_topic_and_key_signals_are_covered() -> None:
    alarms = resources(TEMPLATE, "AWS::CloudWatch::Alarm")
    signals = set()
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        signals.add((props["Namespace"], props["MetricName"], dims.get("status")))
    assert {("AWS/Lambda", "Errors", None), ("AWS/Lambda", "Throttles", None)} <= signals
    ns = observability.NAMESPACE
    assert {(ns, "Executions", "REJECTED"), (ns, "Executions", "FAILED")} <= signals
    queues = {
        json.dumps(a["Properties"]["Dimensions"])
        for a in alarms.values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
    }
    assert len(queues) == len(resources(TEMPLATE, "AWS::SQS::Queue"))


def test_overfill_alarm_fires_on_the_first_overfilled_item() -> None:
    """SPEC §3.3: an OVERFILLED item emits ``Overfill`` (``emit_overfill``) and alarms."""
    [alarm] = [
        a["Properties"]
        for a in resources(TEMPLATE, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "Overfill"
    ]
    assert alarm["Namespace"] == observability.NAMESPACE
    assert alarm["Dimensions"] == [{"Name": "service", "Value": observability.SERVICE}]
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 0)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_both_tables_have_the_schema_the_handler_requires() -> None:
    """SPEC §3.4: the handler refuses at cold start any table but hash key ``id`` (S)."""
    for logical_id in ("IdempotencyTable", "LockTable"):
        props = TEMPLATE["Resources"][logical_id]["Properties"]
        assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}], logical_id
        assert props["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
        assert props["TimeToLiveSpecification"]["AttributeName"] == "expiration"


def _create_table(client: Any, logical_id: str, name: str) -> None:
    props = TEMPLATE["Resources"][logical_id]["Properties"]
    client.create_table(
        TableName=name,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        BillingMode=props["BillingMode"],
    )


def test_template_tables_work_with_the_real_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("dynamodb")
        _create_table(client, "IdempotencyTable", "idem")
        _create_table(client, "LockTable", "locks")
        calls: list[str] = []

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="payload",
            persistence_store=persistence_layer(client, "idem"),
            config=IdempotencyConfig(event_key_jmespath="plan_id"),
        )
        def run(payload: dict[str, str]) -> dict[str, str]:
            calls.append(payload["plan_id"])
            return {"status": "SUCCEEDED"}

        assert run(payload={"plan_id": "p-1"}) == run(payload={"plan_id": "p-1"})
        assert calls == ["p-1"]
        (item,) = client.scan(TableName="idem")["Items"]
        ttl = TEMPLATE["Resources"]["IdempotencyTable"]["Properties"]["TimeToLiveSpecification"]
        assert ttl["AttributeName"] in item

        lock = DynamoDbAccountLock(client, "locks")
        assert asyncio.run(lock.acquire("account-1", "plan-a", 60)) is True
        assert asyncio.run(lock.acquire("account-1", "plan-b", 60)) is False
        (lease,) = client.scan(TableName="locks")["Items"]
        lock_ttl = TEMPLATE["Resources"]["LockTable"]["Properties"]["TimeToLiveSpecification"]
        assert lock_ttl["AttributeName"] in lease


def test_env_local_json_covers_what_sam_local_cannot_resolve(clean_env: pytest.MonkeyPatch) -> None:
    """`sam local invoke --env-vars` only sets names the template declares (docs/deploy.md)."""
    local = json.loads((ROOT / "events" / "env.local.json").read_text(encoding="utf-8"))
    overrides: dict[str, str] = local["RebalanceExecutorFunction"]
    template_env = _env(LocalEmulation="true")
    # Values naming stack resources (tables, bucket, bus, kill-switch parameter) do not exist
    # locally; local-only values are empty in the template.
    stack_bound = {k for k, v in template_env.items() if v.startswith("<")}
    assert stack_bound | LOCAL_ONLY | {"KILL_SWITCH_PARAMETER"} <= set(overrides)
    for name in template_env:
        clean_env.setenv(name, overrides.get(name, template_env[name]))
    settings = load_settings()
    assert settings.alpaca_base_url is not None
    assert settings.alpaca_paper is True
    assert settings.kill_switch_parameter is None
