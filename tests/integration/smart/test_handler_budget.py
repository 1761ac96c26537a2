"""A 20 s Lambda budget through the real handler: simulator + real alpaca-py + moto (SPEC §4.7)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from alpaca_sim.testing import RunningSimulator
from rebalance_executor.cli.events_io import invoke_handler, load_event, restamp
from rebalance_executor.cli.local_aws import LocalResources
from tests.fixtures.handler import HandlerSim, install_dependencies

EVENT = Path(__file__).resolve().parents[3] / "events" / "rebalance_planned.json"
KEY_ID = "SMARTBUDGETKEY1"
SECRET = "SMARTBUDGETSECRET"
TERMINAL = {"filled", "canceled", "replaced"}


@pytest.fixture
def smart_sim(handler_sim: HandlerSim) -> RunningSimulator:
    env = {"EXECUTION_POLICY": "smart", "DEADLINE_RESERVE_S": "6"}
    sim = handler_sim(KEY_ID, SECRET, seed=5, time_scale=5.0, env=env)
    install_dependencies(sim)
    return sim


def test_twenty_second_budget_returns_a_complete_result(
    smart_sim: RunningSimulator, aws_env: LocalResources
) -> None:
    event = restamp(load_event(EVENT), smart_sim.clock.now())
    response = invoke_handler(event, timeout_s=20.0, function_name="smart-budget")

    assert response["status"] in {"SUCCEEDED", "PARTIAL", "FAILED"}, response
    assert response["items_total"] == 4
    assert response["result_uri"]
    orders = smart_sim.control.orders(KEY_ID)
    assert orders, "the smart policy sent orders"
    assert {o["status"] for o in orders} <= TERMINAL
    bucket, key = response["result_uri"].removeprefix("s3://").split("/", 1)
    stored = json.loads(
        boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    )
    assert stored["tca"]["policy"] == "smart"
    assert Decimal(stored["budget"]["total_s"]) <= Decimal(20)
    for got in stored["items"]:
        if got["action"] == "HOLD":
            continue
        assert got["outcome"] == "FILLED" or got["reason"] is not None
        fills = [f for f in smart_sim.control.fills(KEY_ID) if f.symbol == got["symbol"]]
        assert sum((f.qty for f in fills), Decimal(0)) == Decimal(got["filled_qty"])
