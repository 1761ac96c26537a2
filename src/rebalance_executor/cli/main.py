"""The ``rebalance-executor`` console script: one argparse sub-command per module.

``pip install rebalance-executor`` installs the Lambda's dependencies only; the command line
needs the ``[cli]`` extra (rich, matplotlib, moto, the simulator's server). Without it the
command prints one sentence naming the extra instead of a traceback. A missing module that no
extra provides is a broken install or a bug, and still raises.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

# Top-level modules of the [cli] extra's distributions (the [sim] extra is part of it), plus
# starlette, fastapi's own dependency that the simulator imports directly. A test checks this
# against pyproject.toml.
CLI_EXTRA_MODULES = frozenset({"rich", "matplotlib", "moto", "fastapi", "uvicorn", "starlette"})
INSTALL_HINT = "pip install 'rebalance-executor[cli]'"

try:
    from rebalance_executor.cli import (
        bench,
        conformance,
        invoke,
        replay,
        report,
        restamp,
        run,
        sim,
    )
except ModuleNotFoundError as exc:
    _missing = (exc.name or "").partition(".")[0]
    if _missing not in CLI_EXTRA_MODULES:
        raise
    _MISSING_MODULE: str | None = _missing
    _COMMANDS: tuple[ModuleType, ...] = ()
else:
    _MISSING_MODULE = None
    _COMMANDS = (run, invoke, replay, restamp, sim, report, bench, conformance)


def missing_extra_message(module: str) -> str:
    """The one sentence printed when the [cli] extra is not installed."""
    return (
        f"rebalance-executor: the command line needs the [cli] extra "
        f"(module {module!r} is not installed): {INSTALL_HINT}"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rebalance-executor",
        description="Execute portfolio rebalance plans on Alpaca (SPEC §3.5).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in _COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns its exit code (1 and one sentence
    on stderr when the [cli] extra is missing)."""
    if _MISSING_MODULE is not None:
        sys.stderr.write(missing_extra_message(_MISSING_MODULE) + "\n")
        return 1
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
