"""`make lambda-local`: the built artifact under Lambda's own runtime, without Docker (SPEC §3.5).

Usage: lambda_local.py BUILD_DIR --rie PATH --runtime-python PATH [--event FILE]
                       [--cold-starts N] [--max-init-ms MS] [--policy smart|anchor|market]

Starts the Alpaca simulator and moto (server mode) in this process on free loopback ports,
creates the local bucket/tables/bus, then for each of N cold starts launches a fresh Runtime
Interface Emulator + awslambdaric on BUILD_DIR/RebalanceExecutorFunction with the template's
handler, timeout, memory and environment (ExecutionPolicy=--policy, LocalEmulation=true) and
invokes the sample event, re-stamped to now. The first invocation executes the plan: its
response must be SUCCEEDED and the S3 result object must hold the same plan and status. Later
ones are redeliveries of the same event and must return the stored summary. Prints each INIT
and invoke duration (the emulator's REPORT lines); exits 1 when a check fails or the median
INIT exceeds --max-init-ms (a median, because the CPU here is shared). Every process it started
is stopped on the way out, failure included.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from lambda_emulator import EmulatorError, FunctionConfig, Invocation, invoke, running_emulator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the template reader shared with the infrastructure tests

from tests.unit.infra.cfn import Evaluator, load_template  # noqa: E402

from alpaca_sim.testing import running_simulator  # noqa: E402
from rebalance_executor.cli.events_io import load_event, restamp  # noqa: E402
from rebalance_executor.cli.local_aws import (  # noqa: E402
    REGION,
    LocalResources,
    create_resources,
    free_port,
    running_moto_server,
)
from rebalance_executor.domain.clock import SystemClock  # noqa: E402

FUNCTION = "RebalanceExecutorFunction"
KEY_ID, SECRET = "sim-key", "sim-secret"
# moto's; set for this process too, so real credentials never go near the local servers.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class CheckFailedError(RuntimeError):
    """The handler's response or its S3 record is not what the sample must produce."""


def function_config(build: Path, policy: str, sim_url: str, aws_url: str) -> FunctionConfig:
    """The built template's function, resolved like `sam local invoke --parameter-overrides
    LocalEmulation=true`, with the local servers and resources in place of the stack's."""
    template = load_template(build / "template.yaml")
    evaluator = Evaluator(template, LocalEmulation="true", ExecutionPolicy=policy)
    props = evaluator.resolve(template["Resources"][FUNCTION]["Properties"])
    environment = {k: str(v) for k, v in props["Environment"]["Variables"].items()}
    environment.update(LocalResources().environment())
    environment.update(
        LOCAL_CREDENTIALS,
        ALPACA_BASE_URL=sim_url,
        ALPACA_API_KEY=KEY_ID,
        ALPACA_SECRET_KEY=SECRET,
        AWS_ENDPOINT_URL=aws_url,
        AWS_DEFAULT_REGION=REGION,
        KILL_SWITCH_PARAMETER="",  # no SSM parameter in moto; the env switch still applies
    )
    return FunctionConfig(
        name=str(props["FunctionName"]),
        handler=str(props["Handler"]),
        timeout_s=int(props["Timeout"]),
        memory_mb=int(props["MemorySize"]),
        environment=environment,
    )


def check_first(response: Mapping[str, Any], aws_url: str) -> None:
    """SUCCEEDED, and the S3 result object records the same plan and status."""
    if response.get("status") != "SUCCEEDED":
        raise CheckFailedError(f"expected status SUCCEEDED, got {json.dumps(response)[:600]}")
    bucket, _, key = str(response["result_uri"]).removeprefix("s3://").partition("/")
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=aws_url)
    try:
        stored = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        raise CheckFailedError(f"no S3 result at {response['result_uri']}: {exc}") from exc
    found = (stored.get("plan_id"), stored.get("status"))
    if found != (response["plan_id"], "SUCCEEDED"):
        raise CheckFailedError(f"S3 result {response['result_uri']} holds {found}")


def check_redelivery(response: Mapping[str, Any], first: Mapping[str, Any]) -> None:
    """A redelivered event returns the stored summary: same plan, status and record."""
    keys = ("plan_id", "status", "result_uri")
    if [response.get(k) for k in keys] != [first.get(k) for k in keys]:
        raise CheckFailedError(f"redelivery returned {json.dumps(response)[:600]}")


def print_figures(invocations: list[Invocation]) -> list[float]:
    inits = [i.init_ms for i in invocations if i.init_ms is not None]
    for n, inv in enumerate(invocations, 1):
        kind = "execute " if n == 1 else "redeliver"
        sys.stdout.write(
            f"cold start {n} ({kind}): INIT {inv.init_ms or 0:.0f} ms, "
            f"invoke {inv.duration_ms:.0f} ms, status {inv.response.get('status')}\n"
        )
    if inits:
        sys.stdout.write(
            f"INIT over {len(inits)} cold starts: min {min(inits):.0f} ms, "
            f"median {statistics.median(inits):.0f} ms, max {max(inits):.0f} ms\n"
        )
    return inits


def run(args: argparse.Namespace, stack: ExitStack, workdir: Path) -> list[Invocation]:
    sim = stack.enter_context(running_simulator(keys={KEY_ID: SECRET}))
    aws_url = stack.enter_context(running_moto_server())
    create_resources(LocalResources(), aws_url)
    config = function_config(args.build_dir, args.policy, sim.base_url, aws_url)
    event = restamp(load_event(args.event), SystemClock().now())
    artifact = (args.build_dir / FUNCTION).resolve()
    log_path = workdir / "emulator.log"
    invocations: list[Invocation] = []
    for _ in range(args.cold_starts):
        ports = (free_port(), free_port())
        with running_emulator(
            args.rie,
            args.runtime_python,
            artifact=artifact,
            config=config,
            ports=ports,
            log_path=log_path,
        ) as url:
            invocations.append(invoke(url, event, config.timeout_s + 30, log_path))
        if len(invocations) == 1:
            check_first(invocations[0].response, aws_url)
        else:
            check_redelivery(invocations[-1].response, invocations[0].response)
    return invocations


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dir", type=Path)
    parser.add_argument("--rie", type=Path, required=True)
    parser.add_argument("--runtime-python", type=Path, required=True)
    parser.add_argument("--event", type=Path, default=ROOT / "events/rebalance_planned.json")
    parser.add_argument("--cold-starts", type=int, default=3)
    parser.add_argument("--max-init-ms", type=float, default=1000.0)
    parser.add_argument("--policy", choices=("smart", "anchor", "market"), default="market")
    args = parser.parse_args(argv)
    # Absolute, not resolved: the emulator runs in the artifact directory, and resolving the
    # runtime venv's python symlink would leave the venv (and awslambdaric) behind.
    for name in ("build_dir", "rie", "runtime_python", "event"):
        setattr(args, name, getattr(args, name).absolute())
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    os.environ.update(LOCAL_CREDENTIALS, AWS_DEFAULT_REGION=REGION)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
    with tempfile.TemporaryDirectory(prefix="lambda-local-") as tmp, ExitStack() as stack:
        try:
            invocations = run(args, stack, Path(tmp))
        except (EmulatorError, CheckFailedError) as exc:
            log = Path(tmp) / "emulator.log"
            if log.exists():
                sys.stderr.write(log.read_text(encoding="utf-8", errors="replace")[-4000:])
            sys.stderr.write(f"lambda-local: {exc}\n")
            return 1
    inits = print_figures(invocations)
    if not inits:
        sys.stderr.write("lambda-local: the emulator reported no Init Duration\n")
        return 1
    if statistics.median(inits) > args.max_init_ms:
        sys.stderr.write(
            f"lambda-local: median INIT {statistics.median(inits):.0f} ms exceeds "
            f"{args.max_init_ms:.0f} ms (SPEC §9)\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
