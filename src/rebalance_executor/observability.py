"""Powertools Logger and Metrics shared by the handler and the application flow.

No Powertools Tracer: importing the X-Ray SDK costs ~150 ms of every cold start (it builds a
botocore client at import), and SPEC §9 allows 1 s. The function keeps ``Tracing: Active``, so
X-Ray still records Lambda's own segments (init, invoke); docs/deploy.md "Cold start".

The Logger writes JSON to the *current* ``sys.stderr`` (resolved at every write), so the CLI can
keep stdout for the handler's response and tests can capture lines. Every ``rebalance_executor.*``
stdlib logger is routed through the same handler, so adapter and executor lines also carry the
correlation id and plan id.
"""

from __future__ import annotations

import io
import logging
import sys
from typing import IO, Final, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

SERVICE: Final = "rebalance-executor"
NAMESPACE: Final = "RebalanceExecutor"
PACKAGE_LOGGER: Final = "rebalance_executor"
# botocore at DEBUG logs whole response bodies, GetSecretValue's included, and websockets at
# DEBUG logs every frame, the streams' authenticate frames (key and secret) included: never
# below INFO.
WIRE_LOGGERS: Final = ("botocore", "boto3", "s3transfer", "websockets")


class _CurrentStderr(io.TextIOBase):
    """A stream that forwards to whatever ``sys.stderr`` is at write time."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


logger: Final = Logger(service=SERVICE, stream=cast(IO[str], _CurrentStderr()))
metrics: Final = Metrics(namespace=NAMESPACE, service=SERVICE)


def route_package_logs() -> None:
    """Send ``rebalance_executor.*`` stdlib loggers through the Powertools JSON handler.

    Also pins the wire loggers (the AWS SDK's, websockets') at INFO or above so a DEBUG log
    level (root or Lambda's ``AWS_LAMBDA_LOG_LEVEL``) can never print a secret from a response
    body or a stream's authenticate frame.
    """
    logging.getLogger(PACKAGE_LOGGER)  # registers the parent so the copy finds it
    copy_config_to_registered_loggers(source_logger=logger, include={PACKAGE_LOGGER})
    for name in WIRE_LOGGERS:
        wire = logging.getLogger(name)
        wire.setLevel(max(wire.getEffectiveLevel(), logging.INFO))
