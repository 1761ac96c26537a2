"""``rebalance-executor sim serve [--host --port --seed --scenario FILE --time-scale X]``.

Runs the Alpaca-compatible simulator as a server (for ``sam local invoke``, manual testing and
other tools) until interrupted. Dev-only: the simulator does not ship in the Lambda artifact.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from alpaca_sim import cli as sim_cli


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser("sim", help="the Alpaca-compatible market simulator")
    actions = parser.add_subparsers(dest="sim_command", required=True)
    serve = actions.add_parser("serve", help="serve the simulator over HTTP until interrupted")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--scenario", type=Path, default=None, metavar="FILE")
    serve.add_argument("--time-scale", type=float, default=1.0)
    serve.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Blocks until interrupted; OSError/ValueError (bad scenario, busy port) propagate."""
    sim_cli.serve(
        host=args.host,
        port=args.port,
        seed=args.seed,
        scenario_path=args.scenario,
        time_scale=args.time_scale,
    )
    return 0
