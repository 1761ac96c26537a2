"""Run the built artifact under Lambda's Runtime Interface Emulator (RIE) with ``awslambdaric``.

The RIE binary ships inside the aws-sam-cli package (``samcli/local/rapid/``); the runtime client
``awslambdaric`` lives in its own Python 3.13 venv (``.venv-rt``), never in the artifact — on Lambda
the managed runtime provides it from ``/var/runtime``, behind the function's code on sys.path,
which PYTHONPATH=<artifact> reproduces here. Used by scripts/lambda_local.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# RIE starts the runtime on the first invoke and logs the phases (its REPORT line's "Init
# Duration" is its own, near zero, and its "Duration" includes the runtime's INIT).
_INIT = re.compile(r"INIT REPORT\(durationMs: (?P<ms>[\d.]+)\)")
_INVOKE = re.compile(r"INVOKE RTDONE\(status: (?P<status>\w+)[^)]*duration: (?P<ms>[\d.]+)ms\)")
_REPORT = re.compile(r"^REPORT RequestId: .*$", re.MULTILINE)


class EmulatorError(RuntimeError):
    """The emulator did not start, or an invocation could not be made or reported."""


@dataclass(frozen=True)
class FunctionConfig:
    """What the template declares for the function, resolved for a local stack."""

    name: str
    handler: str
    timeout_s: int
    memory_mb: int
    environment: Mapping[str, str]


@dataclass(frozen=True)
class Invocation:
    """One invocation: the handler's response, INIT (None when warm) and invoke durations."""

    response: dict[str, Any]
    init_ms: float | None
    duration_ms: float


def lambda_environment(config: FunctionConfig, artifact: Path) -> dict[str, str]:
    """The environment Lambda gives a python3.13 function, plus the template's variables.

    PYTHONDONTWRITEBYTECODE: Lambda's code directory is read-only, so a cold start cannot cache
    what it compiles; without it the first run here would write .pyc files into the artifact and
    hide a missing precompile from every later measurement.
    """
    region = config.environment.get("AWS_DEFAULT_REGION", "us-east-1")
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(artifact),
        "PYTHONPATH": str(artifact),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(config.timeout_s),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        **config.environment,
    }


@contextmanager
def running_emulator(
    rie: Path,
    runtime_python: Path,
    *,
    artifact: Path,
    config: FunctionConfig,
    ports: tuple[int, int],
    log_path: Path,
) -> Iterator[str]:
    """Start RIE → awslambdaric → the handler (a fresh container: the next invoke is a cold
    start); yields the invoke URL. The process group is killed on exit, even on failure."""
    api_port, rie_port = ports
    command = [
        str(rie),
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{rie_port}",
        "--runtime-api-address",
        f"127.0.0.1:{api_port}",
        str(runtime_python),
        "-m",
        "awslambdaric",
        config.handler,
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=artifact,
            env=lambda_environment(config, artifact),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_listening(rie_port, process)
        yield f"http://127.0.0.1:{rie_port}{INVOKE_PATH}"
    finally:
        _stop(process)


def invoke(url: str, event: Mapping[str, Any], timeout_s: float, log_path: Path) -> Invocation:
    """POST one event; returns the response with the emulator's INIT and invoke durations.

    Raises EmulatorError when the request fails or the emulator logs no REPORT line.
    """
    already = log_path.read_text(encoding="utf-8", errors="replace")
    request = urllib.request.Request(
        url, data=json.dumps(event).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            response = json.loads(reply.read())
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
        raise EmulatorError(f"invocation failed: {exc!r}") from exc
    text = _await_report(log_path, len(already))
    init, done = _INIT.search(text), _INVOKE.search(text)
    if done is None:
        raise EmulatorError(f"no INVOKE RTDONE line from the emulator; see {log_path}")
    return Invocation(
        response=response if isinstance(response, dict) else {"response": response},
        init_ms=float(init.group("ms")) if init else None,
        duration_ms=float(done.group("ms")),
    )


def _await_report(log_path: Path, offset: int) -> str:
    """The log written since ``offset``, once it holds the invocation's REPORT line."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        text = log_path.read_text(encoding="utf-8", errors="replace")[offset:]
        if _REPORT.search(text):
            return text
        time.sleep(0.05)
    raise EmulatorError(f"no REPORT line from the emulator; see {log_path}")


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(f"the emulator exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=0.5):
                return
        except urllib.error.HTTPError:
            return  # listening (404/405 on /)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise EmulatorError("the emulator did not listen within 10 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the emulator's process group (RIE and the runtime it started), then SIGKILL
    whatever is left after 5 s — a runtime child may outlive RIE."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return  # the whole group is gone already
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)
