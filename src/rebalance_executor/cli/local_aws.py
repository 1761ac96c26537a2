"""Local AWS emulation for ``run`` and the tests: moto's server plus the project's resources.

Dev-only (moto is not a runtime dependency); imported by ``cli.run`` and the test fixtures,
never by the handler.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import boto3
from moto.server import ThreadedMotoServer

REGION: Final = "us-east-1"


@dataclass(frozen=True)
class LocalResources:
    """Names of the emulated resources, and the environment that points the handler at them."""

    bucket: str = "rebalance-results-local"
    table: str = "rebalance-idempotency-local"
    lock_table: str = "rebalance-locks-local"
    bus: str = "rebalance-local"

    def environment(self) -> dict[str, str]:
        return {
            "RESULTS_BUCKET": self.bucket,
            "IDEMPOTENCY_TABLE": self.table,
            "LOCK_TABLE": self.lock_table,
            "EVENT_BUS_NAME": self.bus,
        }


def create_resources(resources: LocalResources, endpoint_url: str | None = None) -> None:
    """Create bucket (versioned), idempotency table (TTL), lock table and event bus.

    Raises botocore ClientError when a resource cannot be created.
    """
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint_url)
    s3.create_bucket(Bucket=resources.bucket)
    s3.put_bucket_versioning(Bucket=resources.bucket, VersioningConfiguration={"Status": "Enabled"})
    ddb = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint_url)
    # Both tables have Powertools' schema (SPEC §3.4); the handler refuses any other.
    for table, key, ttl in (
        (resources.table, "id", "expiration"),
        (resources.lock_table, "id", "expiration"),
    ):
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
        )
    events = boto3.client("events", region_name=REGION, endpoint_url=endpoint_url)
    events.create_event_bus(Name=resources.bus)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_moto_server() -> Iterator[str]:
    """A moto server on a free loopback port; yields its endpoint URL, stops it on exit."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
