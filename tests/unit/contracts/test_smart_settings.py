"""The SMART_* settings added with the spread gate map into SmartSchedule (SPEC §3.4, §4.5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalance_executor.domain.config import SmartSchedule
from rebalance_executor.settings import SettingsError, load_settings

pytestmark = pytest.mark.usefixtures("clean_env")


def test_defaults_mirror_the_schedule() -> None:
    assert load_settings().smart_schedule() == SmartSchedule()


def test_gate_finish_and_recheck_come_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    env = {
        "SMART_MIN_PASSIVE_SPREAD_BPS": "12.5",
        "SMART_FINISH_FRACTION": "0.95",
        "SMART_FINISH_BUFFER_BPS": "20",
        "SMART_RECHECK_S": "3",
        "SMART_CROSS_BUFFER_BPS": "0",
        "SMART_TAKE_ON_MOVE_SPREADS": "1.5",
    }
    for name, value in env.items():
        clean_env.setenv(name, value)
    schedule = load_settings().smart_schedule()
    assert schedule.min_passive_spread_bps == Decimal("12.5")
    assert schedule.finish_fraction == Decimal("0.95")
    assert schedule.finish_buffer_bps == Decimal(20)
    assert schedule.recheck_s == 3.0
    assert schedule.take_on_move_spreads == Decimal("1.5")
    assert schedule.cross_buffer_bps == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SMART_FINAL_CROSS_FRACTION": "0.9", "SMART_FINISH_FRACTION": "0.85"},
            "SMART_FINISH_FRACTION must be >= SMART_FINAL_CROSS_FRACTION",
        ),
        ({"SMART_MIN_PASSIVE_SPREAD_BPS": "-1"}, "SMART_MIN_PASSIVE_SPREAD_BPS"),
        ({"SMART_RECHECK_S": "0"}, "SMART_RECHECK_S"),
    ],
)
def test_invalid_values_fail_at_cold_start(
    clean_env: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()
