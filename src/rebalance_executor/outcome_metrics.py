"""The handler's CloudWatch metrics (EMF through Powertools): executions by status, filled
notional, slippage, duration, rejections, over-filled items, stream fallbacks and one-off
counters."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ExecutionSummary,
    ItemOutcome,
)
from rebalance_executor.observability import NAMESPACE, SERVICE, metrics


def emit_execution_metrics(summary: ExecutionSummary, duration_s: float) -> None:
    """EMF: executions by status (own dimension), filled notional, slippage, duration."""
    with single_metric(
        name="Executions",
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        metric.add_dimension(name="status", value=summary.status.value)
    metrics.add_metric(
        name="FilledNotional", unit=MetricUnit.NoUnit, value=float(summary.filled_notional)
    )
    if summary.slippage_bps is not None:
        metrics.add_metric(
            name="SlippageBps", unit=MetricUnit.NoUnit, value=float(summary.slippage_bps)
        )
    metrics.add_metric(name="DurationMs", unit=MetricUnit.Milliseconds, value=duration_s * 1000)
    if summary.status is ExecutionStatus.REJECTED:
        count_event("Rejections")


def emit_overfill(result: ExecutionResult) -> None:
    """Items whose broker fills exceed the plan beyond tolerance (SPEC §3.3); alarmed on."""
    overfilled = sum(1 for item in result.items if item.outcome is ItemOutcome.OVERFILLED)
    metrics.add_metric(name="Overfill", unit=MetricUnit.Count, value=overfilled)


def emit_stream_fallbacks(result: ExecutionResult) -> None:
    """When the run followed streams: how often it fell back to REST (listings to confirm or
    while the trading stream was down, quote polls), and the gaps (reconnections)."""
    streams = result.streams
    if streams is None:
        return
    fallbacks = streams.confirm_listings + streams.down_ticks + streams.quote_fallbacks
    metrics.add_metric(name="StreamFallbacks", unit=MetricUnit.Count, value=fallbacks)
    metrics.add_metric(name="StreamGaps", unit=MetricUnit.Count, value=streams.gaps)


def count_event(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
