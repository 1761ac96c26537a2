"""The ``rebalance-executor`` console script: one argparse sub-command per module."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from rebalance_executor.cli import bench, conformance, invoke, replay, report, restamp, run, sim


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rebalance-executor",
        description="Execute portfolio rebalance plans on Alpaca (SPEC §3.5).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (run, invoke, replay, restamp, sim, report, bench, conformance):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns its exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
