"""``alpaca-sim``: serve the simulator standalone (``rebalance-executor sim serve`` wraps it)."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import uvicorn

from alpaca_sim.app import create_app
from alpaca_sim.engine import SimEngine
from alpaca_sim.scenario import Scenario

log = logging.getLogger("alpaca_sim")


def serve(  # noqa: PLR0917 - positional signature is the CLI contract
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 0,
    scenario_path: Path | None = None,
    time_scale: float = 1.0,
    keys: Mapping[str, str] | None = None,
) -> None:
    """Run the simulator until interrupted (blocks).

    Raises OSError/ValueError for an unreadable or invalid scenario file, OSError when the port
    cannot be bound.
    """
    scenario = Scenario.load(scenario_path) if scenario_path is not None else None
    engine = SimEngine(seed=seed, scenario=scenario, time_scale=time_scale, keys=keys)
    log.info(
        "alpaca-sim serving",
        extra={"host": host, "port": port, "seed": seed, "scenario": str(scenario_path)},
    )
    uvicorn.run(
        create_app(engine),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        ws="websockets-sansio",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alpaca-sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenario", type=Path, default=None, help="scenario JSON file")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument(
        "--keys",
        type=Path,
        default=None,
        help='JSON file {"KEY_ID": "SECRET", ...}: only these keys are accepted',
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``alpaca-sim`` console script. Returns the process exit code."""
    args = build_parser().parse_args(argv)
    keys = None
    if args.keys is not None:
        keys = {str(k): str(v) for k, v in json.loads(args.keys.read_text("utf-8")).items()}
    serve(args.host, args.port, args.seed, args.scenario, args.time_scale, keys)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
