"""``restamp EVENT.json [--out FILE]``: a copy of a sample event stamped with the current time.

Sample events carry a fixed timestamp and would be REJECTED as stale (MAX_PLAN_AGE_S); this is
how ``make invoke`` feeds them to ``sam local invoke``. The ``plan_id`` is kept, so invoking the
same restamped sample twice still shows idempotency (the second call returns the stored result).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rebalance_executor.cli.events_io import EXIT_BAD_INPUT, EXIT_OK, EventFileError, load_event
from rebalance_executor.cli.events_io import restamp as restamped
from rebalance_executor.domain.clock import SystemClock


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser("restamp", help="copy an event with its timestamp set to now")
    parser.add_argument("event", type=Path, help="event JSON file")
    parser.add_argument("--out", type=Path, help="write here instead of stdout")
    parser.set_defaults(func=_restamp)


def _restamp(args: argparse.Namespace) -> int:
    try:
        event = load_event(args.event)
    except EventFileError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_BAD_INPUT
    text = json.dumps(restamped(event, SystemClock().now()), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return EXIT_OK
