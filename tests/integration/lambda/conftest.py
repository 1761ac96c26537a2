"""The real handler against the simulator (real alpaca-py over loopback) and moto."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rebalance_executor.cli.events_io import load_event, restamp
from rebalance_executor.cli.local_aws import LocalResources
from rebalance_executor.composition import Dependencies
from tests.fixtures.handler import HandlerSim, SimHandlerRig, install_dependencies

EVENTS = Path(__file__).resolve().parents[3] / "events"
KEY_ID = "LAMBDATESTKEY1"
SECRET = "LAMBDATESTSECRET-do-not-log"


@dataclass
class LambdaRig(SimHandlerRig):
    deps: Dependencies

    def event(self, name: str) -> dict[str, Any]:
        """A sample event re-stamped to the simulator's now (samples are otherwise stale)."""
        return restamp(load_event(EVENTS / name), self.sim.clock.now())

    def rebuild(self) -> None:
        """Rebuild dependencies from the (monkeypatched) environment."""
        self.deps = install_dependencies(self.sim)


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every JSON line (log lines and EMF metric documents)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def log_lines(text: str) -> list[dict[str, Any]]:
    """The structured log lines (EMF documents have no ``level``)."""
    return [line for line in json_lines(text) if "level" in line]


@pytest.fixture
def rig(aws_env: LocalResources, handler_sim: HandlerSim) -> LambdaRig:
    # These tests are about the Lambda flow, not order working: the fast, deterministic policy.
    env = {"DEADLINE_RESERVE_S": "8", "EXECUTION_POLICY": "market"}
    sim = handler_sim(KEY_ID, SECRET, time_scale=20.0, env=env)
    return LambdaRig(sim=sim, resources=aws_env, deps=install_dependencies(sim))
