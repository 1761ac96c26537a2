"""Wire the application from :class:`Settings`: broker, results store, publisher, kill switch.

Clients are created inside :func:`build_dependencies` (never at import), so ``moto``'s
``mock_aws`` — which only patches clients created after it starts — and a fresh environment
both see new clients whenever the handler rebuilds its dependencies. Every client carries the
timeouts and retry budget of :class:`AwsCallBudget` (derived from ``DEADLINE_RESERVE_S``).

Cold start makes one ``DescribeTable`` call per DynamoDB table (bounded like every call; cost in
docs/lambda.md) and refuses a table whose key schema is not Powertools' (hash key ``id`` S),
naming the variable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
)

from rebalance_executor.adapters.account_lock import DynamoDbAccountLock
from rebalance_executor.adapters.alpaca_broker import AlpacaBroker
from rebalance_executor.adapters.alpaca_streams import AlpacaStreams, stream_urls
from rebalance_executor.adapters.aws_config import AwsCallBudget
from rebalance_executor.adapters.event_bus import EventBusPublisher
from rebalance_executor.adapters.idempotency import (
    idempotency_config,
    key_schema_problem,
    persistence_layer,
)
from rebalance_executor.adapters.kill_switch import EnvSsmKillSwitch
from rebalance_executor.adapters.s3_results import S3ResultsStore
from rebalance_executor.adapters.secrets import (
    AlpacaCredentials,
    credentials_from_env,
    credentials_from_secret,
)
from rebalance_executor.domain.broker import BrokerPort
from rebalance_executor.domain.clock import Clock, Deadline, SystemClock
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.locks import AccountLock
from rebalance_executor.domain.progress import NullProgress, ProgressSink
from rebalance_executor.domain.streams import StreamPort
from rebalance_executor.settings import Settings, SettingsError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

BrokerFactory = Callable[[Deadline], BrokerPort]
StreamsFactory = Callable[[], StreamPort]


@dataclass(frozen=True)
class Dependencies:
    """Everything the application flow (``service``) needs for one container."""

    settings: Settings
    execution_config: ExecutionConfig
    clock: Clock
    credentials: Callable[[], AlpacaCredentials]
    broker_factory: BrokerFactory
    results: S3ResultsStore
    publisher: EventBusPublisher | None
    kill_switch: EnvSsmKillSwitch
    persistence: DynamoDBPersistenceLayer
    idempotency: IdempotencyConfig
    account_lock: AccountLock
    # Item-by-item progress: silent in Lambda; `rebalance-executor run` swaps in a live display.
    progress: ProgressSink = field(default_factory=NullProgress)
    # The broker's streams for one invocation (None: STREAMS_ENABLED=false, polling only).
    streams_factory: StreamsFactory | None = None


def build_dependencies(settings: Settings, *, clock: Clock | None = None) -> Dependencies:
    """Build the object graph.

    Raises SettingsError when a required resource is not named or a DynamoDB table's key schema
    does not fit; botocore errors of the DescribeTable calls propagate (the next invocation
    builds again).
    """
    if not settings.results_bucket:
        raise SettingsError("RESULTS_BUCKET: is required to run the handler")
    if not settings.idempotency_table:
        raise SettingsError("IDEMPOTENCY_TABLE: is required to run the handler")
    the_clock: Clock = clock or SystemClock()
    aws = AwsCallBudget.from_reserve(settings.deadline_reserve_s)
    config = aws.botocore_config()
    dynamodb = aws.bounded(boto3.client("dynamodb", config=config))
    _require_key_schema(dynamodb, "IDEMPOTENCY_TABLE", settings.idempotency_table)
    if settings.lock_table:
        _require_key_schema(dynamodb, "LOCK_TABLE", settings.lock_table)
    credentials = _credentials_source(settings, aws)
    return Dependencies(
        settings=settings,
        execution_config=settings.execution_config(),
        clock=the_clock,
        credentials=credentials,
        broker_factory=_broker_factory(settings, the_clock, credentials),
        results=S3ResultsStore(
            aws.bounded(boto3.client("s3", config=config)), settings.results_bucket
        ),
        publisher=(
            EventBusPublisher(
                aws.bounded(boto3.client("events", config=config)), settings.event_bus_name
            )
            if settings.event_bus_name
            else None
        ),
        kill_switch=EnvSsmKillSwitch(
            env_flag=settings.kill_switch,
            ssm=(
                aws.bounded(boto3.client("ssm", config=config))
                if settings.kill_switch_parameter
                else None
            ),
            parameter=settings.kill_switch_parameter,
        ),
        persistence=persistence_layer(dynamodb, settings.idempotency_table),
        idempotency=idempotency_config(settings.max_plan_age_s),
        # Never off (SPEC §3.4): without LOCK_TABLE the leases live in the idempotency table.
        account_lock=DynamoDbAccountLock(
            dynamodb, settings.lock_table or settings.idempotency_table, the_clock
        ),
        streams_factory=(
            _streams_factory(settings, the_clock, credentials) if settings.streams_enabled else None
        ),
    )


def _require_key_schema(client: DynamoDBClient, variable: str, table: str) -> None:
    problem = key_schema_problem(client, table)
    if problem is not None:
        raise SettingsError(f"{variable}: table {table} {problem}")


def _credentials_source(settings: Settings, aws: AwsCallBudget) -> Callable[[], AlpacaCredentials]:
    """Lazy: an invalid event never touches Secrets Manager. Raises CredentialsError."""
    secret_id = settings.alpaca_secret_id
    if secret_id:
        client: SecretsManagerClient = aws.bounded(
            boto3.client("secretsmanager", config=aws.botocore_config())
        )
        return lambda: credentials_from_secret(client, secret_id)
    api_key = settings.alpaca_api_key.get_secret_value() if settings.alpaca_api_key else None
    secret = settings.alpaca_secret_key.get_secret_value() if settings.alpaca_secret_key else None
    return lambda: credentials_from_env(api_key, secret)


def _broker_factory(
    settings: Settings, clock: Clock, credentials: Callable[[], AlpacaCredentials]
) -> BrokerFactory:
    def create(deadline: Deadline) -> BrokerPort:
        creds = credentials()
        return AlpacaBroker.create(
            api_key=creds.api_key,
            secret_key=creds.secret_key,
            paper=settings.alpaca_paper,
            base_url=settings.alpaca_base_url,
            data_feed=settings.alpaca_data_feed.value,
            timeout_s=settings.broker_timeout_s,
            max_requests_per_min=settings.max_requests_per_min,
            clock=clock,
            deadline=deadline,
        )

    return create


def _streams_factory(
    settings: Settings, clock: Clock, credentials: Callable[[], AlpacaCredentials]
) -> StreamsFactory:
    feed = settings.alpaca_data_feed.value
    trading_url, data_url = stream_urls(settings.alpaca_base_url, feed)

    def create() -> StreamPort:
        creds = credentials()
        return AlpacaStreams(
            api_key=creds.api_key,
            secret_key=creds.secret_key,
            paper=settings.alpaca_paper,
            trading_url=settings.alpaca_stream_url or trading_url,
            data_url=settings.alpaca_data_stream_url or data_url,
            feed=feed,
            clock=clock,
        )

    return create
