"""samconfig.toml: default/dev/prod deploy environments that template.yaml accepts."""

from __future__ import annotations

import shlex
import tomllib
from typing import Any

import pytest

from tests.unit.infra.cfn import SAMCONFIG_PATH, load_template

CONFIG = tomllib.loads(SAMCONFIG_PATH.read_text(encoding="utf-8"))
PARAMETERS = load_template()["Parameters"]


def _deploy(env: str) -> dict[str, Any]:
    deploy: dict[str, Any] = CONFIG[env]["deploy"]["parameters"]
    return deploy


def _overrides(env: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in shlex.split(_deploy(env)["parameter_overrides"]))
    return dict(pairs)


@pytest.mark.parametrize("env", ["default", "dev", "prod"])
def test_environment_deploys_with_iam_capability_and_managed_bucket(env: str) -> None:
    deploy = _deploy(env)
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_s3"] is True
    assert deploy["stack_name"].startswith("rebalance-executor-")


@pytest.mark.parametrize("env", ["default", "dev", "prod"])
def test_overrides_are_valid_template_parameters(env: str) -> None:
    overrides = _overrides(env)
    for name, value in overrides.items():
        allowed = PARAMETERS[name].get("AllowedValues")
        assert allowed is None or value in allowed, (env, name, value)
    assert overrides["Stage"] == ("prod" if env == "prod" else "dev")


@pytest.mark.parametrize("env", ["default", "dev", "prod"])
def test_no_environment_trades_live_by_default(env: str) -> None:
    assert _overrides(env)["TradingMode"] == "paper"


def test_prod_changes_need_confirmation_and_set_caps() -> None:
    assert _deploy("prod")["confirm_changeset"] is True
    overrides = _overrides("prod")
    assert {"MaxOrderNotional", "MaxPlanNotional", "MaxPlanEquityFraction"} <= set(overrides)
    assert _deploy("prod")["stack_name"] != _deploy("dev")["stack_name"]
