"""``rebalance-executor replay (--event FILE | --result s3://bucket/.../result.json)``.

Re-invokes the handler with a saved event, or with the ``event.json`` stored beside a result.
A replay of an executed plan is answered by idempotency: the stored summary, no order sent.
Exit codes as ``invoke``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import boto3

from rebalance_executor.adapters.s3_results import (
    ResultReadError,
    S3ResultsStore,
    parse_s3_uri,
)
from rebalance_executor.cli.events_io import EXIT_BAD_INPUT, EventFileError, load_event, restamp
from rebalance_executor.cli.invoke import add_invocation_options, invoke_and_print
from rebalance_executor.domain.clock import SystemClock


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="re-invoke from a saved event file or from a stored result's event.json",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--event", type=Path, metavar="FILE")
    source.add_argument("--result", metavar="S3_URI", help="s3://bucket/key/result.json")
    add_invocation_options(parser, default_timeout_s=60.0)
    parser.set_defaults(func=run)


def stored_event(result_uri: str) -> dict[str, Any]:
    """The ``event.json`` beside a stored result. Raises ValueError or ResultReadError."""
    bucket, key = parse_s3_uri(result_uri)
    prefix = key.rsplit("/", 1)[0] if "/" in key else ""
    store = S3ResultsStore(boto3.client("s3"), bucket)
    return store.read_json(bucket, f"{prefix}/event.json" if prefix else "event.json")


def run(args: argparse.Namespace) -> int:
    try:
        event = load_event(args.event) if args.event else stored_event(args.result)
    except (EventFileError, ResultReadError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    if args.restamp:
        event = restamp(event, SystemClock().now())
    return invoke_and_print(event, args.timeout_s, report=args.report)
