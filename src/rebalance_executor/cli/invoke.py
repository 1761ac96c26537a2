"""``rebalance-executor invoke EVENT.json [--timeout-s N]`` — call the real handler locally.

Uses the environment of SPEC §3.4. Prints the handler's response as one JSON document on stdout
(logs and metrics go to stderr; ``--report`` adds the human report of the stored result there).
Exit 0 when the handler returned, 1 when it raised, 2 when the event file is unreadable.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from rebalance_executor.cli.events_io import (
    EXIT_BAD_INPUT,
    EXIT_HANDLER_RAISED,
    EXIT_OK,
    EventFileError,
    invoke_handler,
    load_event,
    print_response,
    restamp,
)
from rebalance_executor.cli.report import report_response
from rebalance_executor.domain.clock import SystemClock

logger = logging.getLogger(__name__)


def add_invocation_options(parser: argparse.ArgumentParser, default_timeout_s: float) -> None:
    parser.add_argument(
        "--timeout-s",
        type=float,
        default=default_timeout_s,
        help="the simulated Lambda timeout; remaining time counts down from it",
    )
    parser.add_argument(
        "--restamp",
        action="store_true",
        help="set the plan timestamp to now (sample events are otherwise stale)",
    )
    parser.add_argument(
        "--report", action="store_true", help="also print the stored result's report (to stderr)"
    )


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "invoke",
        help="invoke the handler locally with an event file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("event", type=Path, metavar="EVENT.json")
    add_invocation_options(parser, default_timeout_s=60.0)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        event = load_event(args.event)
    except EventFileError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    if args.restamp:
        event = restamp(event, SystemClock().now())
    return invoke_and_print(event, args.timeout_s, report=args.report)


def invoke_and_print(event: dict[str, Any], timeout_s: float, *, report: bool = False) -> int:
    """Invoke, print the response; any exception the handler raised → exit 1 (logged)."""
    try:
        response = invoke_handler(event, timeout_s=timeout_s)
    # CLI boundary: whatever the handler raises is exit 1, as a raising Lambda is an error.
    except Exception as exc:
        logger.exception("handler raised", extra={"error_type": type(exc).__name__})
        sys.stderr.write(f"error: the handler raised {type(exc).__name__}: {exc}\n")
        return EXIT_HANDLER_RAISED
    print_response(response)
    if report:
        # stderr: stdout stays the one JSON document scripts parse.
        report_response(response, Console(stderr=True))
    return EXIT_OK
