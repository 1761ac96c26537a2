"""``rebalance-executor run [--event FILE]`` — the embedded default, end to end (SPEC §3.5).

Starts the simulator and a moto server in-process, creates the bucket, tables and bus, points
the handler's environment at them, invokes the real handler with the sample plan (re-stamped to
the simulator's "now", since sample files carry a fixed timestamp) and prints the report of the
result stored in S3. No credentials needed. Exit 0 when the handler returned, 1 when it
raised, 2 for an unreadable event file.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, ExitStack, closing
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from rich.console import Console

from alpaca_sim.testing import running_simulator
from rebalance_executor.adapters.s3_results import ResultReadError, parse_s3_uri
from rebalance_executor.bench.invariants import Violation, check_execution, records_from_sim
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
from rebalance_executor.cli.local_aws import LocalResources, create_resources, running_moto_server
from rebalance_executor.cli.local_env import logger_levels, patched_environ
from rebalance_executor.composition import Dependencies, build_dependencies
from rebalance_executor.domain.result import ExecutionResult
from rebalance_executor.handler import reset_dependencies
from rebalance_executor.observability import PACKAGE_LOGGER, logger
from rebalance_executor.reporting.html import write_html
from rebalance_executor.reporting.progress import progress_for
from rebalance_executor.reporting.terminal import print_result
from rebalance_executor.settings import load_settings

DEFAULT_EVENT: Final = Path("events/rebalance_planned.json")
SIM_KEY_ID: Final = "LOCALKEY0001"
SIM_SECRET: Final = "LOCALSECRET0001"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="execute the sample plan on the embedded simulator + local AWS, print a report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--event", type=Path, default=DEFAULT_EVENT, metavar="FILE")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="simulated Lambda timeout")
    parser.add_argument("--time-scale", type=float, default=10.0, help="simulated s per real s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenario", type=Path, default=None, metavar="FILE")
    parser.add_argument("--verbose", action="store_true", help="show JSON logs and metrics")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/run"),
        metavar="DIR",
        help="where result.json and report.html (charts) are saved (default: out/run)",
    )
    parser.set_defaults(func=run)


def local_environment(aws_endpoint: str, sim_url: str, verbose: bool) -> dict[str, str]:
    env = {
        "ALPACA_API_KEY": SIM_KEY_ID,
        "ALPACA_SECRET_KEY": SIM_SECRET,
        "ALPACA_PAPER": "true",
        "ALPACA_BASE_URL": sim_url,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        **LocalResources().environment(),
    }
    if not verbose:
        env["POWERTOOLS_METRICS_DISABLED"] = "true"
    return env


def _quiet_logs() -> AbstractContextManager[None]:
    """Only warnings from our loggers, nothing from the moto server, for the block."""
    return logger_levels(
        {PACKAGE_LOGGER: logging.WARNING, logger.name: logging.WARNING, "werkzeug": logging.ERROR}
    )


def run(args: argparse.Namespace) -> int:
    try:
        event = load_event(args.event)
    except EventFileError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    with ExitStack() as stack:
        if not args.verbose:
            stack.enter_context(_quiet_logs())
        endpoint = stack.enter_context(running_moto_server())
        sim = stack.enter_context(
            running_simulator(
                seed=args.seed,
                scenario=args.scenario,
                time_scale=args.time_scale,
                keys={SIM_KEY_ID: SIM_SECRET},
            )
        )
        stack.enter_context(
            patched_environ(local_environment(endpoint, sim.base_url, args.verbose))
        )
        create_resources(LocalResources(), endpoint)
        progress = stack.enter_context(closing(progress_for(Console(stderr=True))))
        deps = replace(build_dependencies(load_settings(), clock=sim.clock), progress=progress)
        reset_dependencies(deps)
        stack.callback(reset_dependencies)
        event = restamp(event, sim.clock.now())

        def check(result: ExecutionResult) -> list[Violation]:
            records = records_from_sim(sim.control, SIM_KEY_ID)
            settings = deps.settings
            return check_execution(
                None,
                result,
                records,
                cash_reserve=settings.cash_reserve,
                allow_margin=settings.allow_margin,
            )

        return _invoke_and_report(event, args.timeout_s, deps, args.out, check)


def _invoke_and_report(
    event: dict[str, Any],
    timeout_s: float,
    deps: Dependencies,
    out_dir: Path,
    check: Callable[[ExecutionResult], list[Violation]],
) -> int:
    """Invoke, print the report and the SPEC §4.10 check against the simulator's records.
    Exit 1 when the handler raised or an invariant is violated."""
    try:
        response = invoke_handler(event, timeout_s=timeout_s)
    except Exception as exc:  # noqa: BLE001 - CLI boundary: a raising handler is exit 1
        sys.stderr.write(f"error: the handler raised {type(exc).__name__}: {exc}\n")
        return EXIT_HANDLER_RAISED
    finally:
        deps.progress.close()  # the live bar ends before the report is printed
    try:
        document = deps.results.read_json(*parse_s3_uri(str(response.get("result_uri"))))
        result = ExecutionResult.model_validate(document)
        print_result(result, Console())
    except (ResultReadError, ValueError) as exc:
        sys.stderr.write(f"error: cannot load the stored result: {exc}\n")
        print_response(response)
        return EXIT_OK
    _save(document, result, out_dir)
    violations = check(result)
    for violation in violations:
        sys.stderr.write(f"SPEC §4.10 violated: {violation}\n")
    sys.stderr.write(f"money invariants (SPEC §4.10): {len(violations)} violations\n")
    print_response(response)
    return EXIT_HANDLER_RAISED if violations else EXIT_OK


def _save(document: Mapping[str, Any], result: ExecutionResult, out_dir: Path) -> None:
    """Keep the stored result and its HTML page on disk (the moto bucket dies with the run)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "result.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
        html = write_html(result, out_dir / "report.html")
    except OSError as exc:
        sys.stderr.write(f"error: cannot save the result under {out_dir}: {exc}\n")
        return
    sys.stderr.write(f"saved {out_dir / 'result.json'} and {html} (open it in a browser)\n")
