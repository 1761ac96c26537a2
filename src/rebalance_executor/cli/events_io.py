"""Reading event files and invoking the real handler locally (shared by invoke/run/replay)."""

from __future__ import annotations

import copy
import json
import sys
from contextlib import redirect_stdout
from datetime import datetime
from pathlib import Path
from typing import Any

from rebalance_executor.handler import lambda_handler
from rebalance_executor.lambda_context import CountdownContext

EXIT_OK = 0
EXIT_HANDLER_RAISED = 1
EXIT_BAD_INPUT = 2


class EventFileError(Exception):
    """The event file is missing, unreadable or not a JSON object."""


def load_event(path: Path) -> dict[str, Any]:
    """Read an event JSON file. Raises EventFileError."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventFileError(f"cannot read event {path}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise EventFileError(f"event {path} must be a JSON object")
    return loaded


def restamp(event: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A copy whose plan timestamp (and envelope time) is ``now``.

    Sample events carry a fixed timestamp; without re-stamping they would be REJECTED as
    stale (MAX_PLAN_AGE_S). Only used on explicit request (``--restamp``) and by ``run``.
    """
    fresh = copy.deepcopy(event)
    stamp = now.isoformat().replace("+00:00", "Z")
    detail = fresh.get("detail") if "detail" in fresh else fresh
    if "detail" in fresh:
        fresh["time"] = stamp
    if isinstance(detail, dict) and isinstance(detail.get("rebalance_plan"), dict):
        detail = detail["rebalance_plan"]
    if isinstance(detail, dict) and "timestamp" in detail:
        detail["timestamp"] = stamp
    if isinstance(detail, dict) and "scheduled_time" in detail:
        # A scheduled allocation (SPEC §3.1 B): its tick time is its plan timestamp.
        detail["scheduled_time"] = stamp
    return fresh


def invoke_handler(
    event: dict[str, Any], *, timeout_s: float, function_name: str = "rebalance-executor-local"
) -> dict[str, Any]:
    """Call the real handler with a counting-down context; returns its response.

    Everything the handler prints (EMF metrics) goes to stderr so stdout stays one JSON
    document. Raises whatever the handler raised.
    """
    context = CountdownContext(timeout_s=timeout_s, function_name=function_name)
    with redirect_stdout(sys.stderr):
        response: dict[str, Any] = lambda_handler(event, context)
    return response


def print_response(response: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(response, sort_keys=True) + "\n")
    sys.stdout.flush()
