"""The real handler against the simulator (real alpaca-py over loopback) and moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alpaca_sim.testing import RunningSimulator
from rebalance_executor import handler
from rebalance_executor.cli.events_io import invoke_handler, load_event, restamp
from rebalance_executor.cli.local_aws import LocalResources
from rebalance_executor.composition import Dependencies, build_dependencies
from rebalance_executor.settings import load_settings
from tests.fixtures.sim import SimFactory

EVENTS = Path(__file__).resolve().parents[3] / "events"
KEY_ID = "LAMBDATESTKEY1"
SECRET = "LAMBDATESTSECRET-do-not-log"


@dataclass
class LambdaRig:
    sim: RunningSimulator
    resources: LocalResources
    deps: Dependencies

    def event(self, name: str) -> dict[str, Any]:
        """A sample event re-stamped to the simulator's now (samples are otherwise stale)."""
        return restamp(load_event(EVENTS / name), self.sim.clock.now())

    def invoke(self, event: dict[str, Any], timeout_s: float = 60.0) -> dict[str, Any]:
        return invoke_handler(event, timeout_s=timeout_s, function_name="rebalance-test")

    def requests(self) -> int:
        return self.sim.control.total_requests()

    def order_posts(self) -> int:
        return self.sim.control.request_counts().get("POST /v2/orders", 0)

    def rebuild(self) -> None:
        """Rebuild dependencies from the (monkeypatched) environment."""
        self.deps = build_dependencies(load_settings(), clock=self.sim.clock)
        handler.reset_dependencies(self.deps)


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every JSON line (log lines and EMF metric documents)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def log_lines(text: str) -> list[dict[str, Any]]:
    """The structured log lines (EMF documents have no ``level``)."""
    return [line for line in json_lines(text) if "level" in line]


@pytest.fixture
def rig(
    aws_env: LocalResources, sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LambdaRig]:
    sim = sim_factory(time_scale=20.0, keys={KEY_ID: SECRET})
    monkeypatch.setenv("ALPACA_API_KEY", KEY_ID)
    monkeypatch.setenv("ALPACA_SECRET_KEY", SECRET)
    monkeypatch.setenv("ALPACA_BASE_URL", sim.base_url)
    monkeypatch.setenv("ALPACA_PAPER", "true")
    monkeypatch.setenv("DEADLINE_RESERVE_S", "8")
    # These tests are about the Lambda flow, not order working: the fast, deterministic policy.
    monkeypatch.setenv("EXECUTION_POLICY", "market")
    monkeypatch.delenv("ALPACA_SECRET_ID", raising=False)
    rig = LambdaRig(sim=sim, resources=aws_env, deps=None)  # type: ignore[arg-type]
    rig.rebuild()
    yield rig
    handler.reset_dependencies()
