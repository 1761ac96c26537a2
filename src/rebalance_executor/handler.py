"""The Lambda entry point: observability around :func:`service.handle_event`, nothing else.

Settings are validated and dependencies built on the first invocation of a container (a bad
environment fails that invocation with a SettingsError naming the variable) and reused after.
Must not import the simulator or the CLI: neither ships in the Lambda artifact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rebalance_executor import service
from rebalance_executor.composition import Dependencies, build_dependencies
from rebalance_executor.observability import logger, metrics, route_package_logs
from rebalance_executor.settings import load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

route_package_logs()

_dependencies: Dependencies | None = None


def dependencies() -> Dependencies:
    """This container's dependencies, built once. Raises SettingsError on a bad environment."""
    global _dependencies  # noqa: PLW0603 - per-container cache, reset by reset_dependencies
    if _dependencies is None:
        _dependencies = build_dependencies(load_settings())
    return _dependencies


def reset_dependencies(deps: Dependencies | None = None) -> None:
    """Drop (or replace) the cached dependencies: tests and the CLI rebuild per environment."""
    global _dependencies  # noqa: PLW0603
    _dependencies = deps


@logger.inject_lambda_context(clear_state=True, log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Execute a ``RebalancePlanned`` event; returns the SPEC §3.3 summary.

    Raises (so Lambda retries) on transient infrastructure failures; see ``service``.
    """
    return service.handle_event(event, context, dependencies())
