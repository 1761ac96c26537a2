"""SPEC §3.4 / §6: every environment name, safe defaults, and one-sentence cold-start errors."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy, SmartSchedule
from rebalance_executor.settings import DataFeed, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs" / "configuration.md"
README = ROOT / "README.md"

SPEC_NAMES = [
    "ALPACA_API_KEY", "ALPACA_SECRET_KEY", "ALPACA_SECRET_ID", "ALPACA_PAPER",
    "ALPACA_BASE_URL", "ALPACA_DATA_FEED", "AWS_ENDPOINT_URL", "RESULTS_BUCKET",
    "IDEMPOTENCY_TABLE", "LOCK_TABLE", "EVENT_BUS_NAME", "EXECUTION_POLICY", "MAX_PLAN_AGE_S",
    "KILL_SWITCH", "KILL_SWITCH_PARAMETER", "DRY_RUN", "MAX_ORDER_NOTIONAL", "MAX_PLAN_NOTIONAL",
    "MAX_PLAN_EQUITY_FRACTION", "CASH_RESERVE", "MIN_ORDER_NOTIONAL", "QUOTE_MAX_AGE_S",
    "MAX_SPREAD_BPS", "MAX_COLLAR_BPS", "MAX_REQUESTS_PER_MIN", "MAX_PLAN_ITEMS",
    "DEADLINE_RESERVE_S", "BROKER_TIMEOUT_S", "POLL_INTERVAL_S", "SMART_START_AGGRESSIVENESS",
    "SMART_STEP_AGGRESSIVENESS", "SMART_REPEG_INTERVAL_S", "SMART_MAX_REPEGS",
    "SMART_FINAL_CROSS_FRACTION",
]  # fmt: skip


pytestmark = pytest.mark.usefixtures("clean_env")


def test_every_spec_name_is_a_setting() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    assert set(SPEC_NAMES) <= fields


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text, flags=re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}


def _documented_defaults(path: Path = DOCS) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| `([^`]*)` \|", text, flags=re.MULTILINE)
    return dict(rows)


@pytest.mark.parametrize("path", [DOCS, README], ids=["configuration.md", "README.md"])
def test_documented_defaults_are_the_real_defaults(path: Path) -> None:
    """The tables must not drift when a default changes (e.g. the benchmark's smart tuning)."""
    documented = _documented_defaults(path)
    assert len(documented) >= 25  # every row with a value; unset ones have none
    for name, shown in documented.items():
        actual = Settings.model_fields[name.lower()].default
        if isinstance(actual, bool):
            assert shown == str(actual).lower(), name
        elif isinstance(actual, int | float | Decimal):
            assert Decimal(shown) == Decimal(str(actual)), name
        else:
            assert shown == str(actual), name


def test_safe_defaults() -> None:
    settings = load_settings()
    assert settings.alpaca_paper is True
    assert settings.is_live is False
    assert settings.execution_policy is ExecutionPolicy.SMART
    assert settings.alpaca_data_feed is DataFeed.IEX
    assert settings.max_plan_age_s == 900
    assert settings.kill_switch is False
    assert settings.dry_run is False
    assert settings.cash_reserve == 0
    assert settings.min_order_notional == 1
    assert settings.max_requests_per_min == 180
    assert settings.max_plan_items == 500
    assert settings.max_order_notional == Decimal(100_000)
    assert settings.max_plan_notional == Decimal(1_000_000)
    assert settings.max_plan_equity_fraction == Decimal(1)


def test_execution_config_defaults_match_domain_defaults() -> None:
    config = load_settings().execution_config()
    expected = ExecutionConfig(
        max_order_notional=Decimal(100_000),
        max_plan_notional=Decimal(1_000_000),
        max_plan_equity_fraction=Decimal(1),
    )
    assert config == expected


def test_environment_maps_into_execution_config(clean_env: pytest.MonkeyPatch) -> None:
    env = {
        "EXECUTION_POLICY": "anchor", "DRY_RUN": "true", "KILL_SWITCH": "1",
        "MAX_ORDER_NOTIONAL": "2500.50", "MAX_PLAN_NOTIONAL": "none",
        "MAX_PLAN_EQUITY_FRACTION": "0.25", "CASH_RESERVE": "100", "MIN_ORDER_NOTIONAL": "5",
        "QUOTE_MAX_AGE_S": "3", "MAX_SPREAD_BPS": "40", "MAX_COLLAR_BPS": "75",
        "POLL_INTERVAL_S": "0.5", "SELL_WAIT_MAX_S": "30", "STREAM_LAG_S": "1.5",
        "STREAM_SILENCE_S": "4",
        "SMART_START_AGGRESSIVENESS": "0.1", "SMART_STEP_AGGRESSIVENESS": "0.3",
        "SMART_REPEG_INTERVAL_S": "7", "SMART_MAX_REPEGS": "6",
        "SMART_FINAL_CROSS_FRACTION": "0.9",
    }  # fmt: skip
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert load_settings().execution_config() == ExecutionConfig(
        policy=ExecutionPolicy.ANCHOR,
        smart=SmartSchedule(
            start_aggressiveness=Decimal("0.1"),
            step_aggressiveness=Decimal("0.3"),
            repeg_interval_s=7,
            max_repegs=6,
            final_cross_fraction=Decimal("0.9"),
        ),
        dry_run=True,
        kill_switch=True,
        max_order_notional=Decimal("2500.50"),
        max_plan_notional=None,
        max_plan_equity_fraction=Decimal("0.25"),
        cash_reserve=Decimal(100),
        min_order_notional=Decimal(5),
        quote_max_age_s=3,
        max_spread_bps=Decimal(40),
        max_collar_bps=Decimal(75),
        poll_interval_s=0.5,
        sell_wait_max_s=30,
        stream_lag_s=1.5,
        stream_silence_s=4,
    )


def test_empty_variable_keeps_default(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MAX_ORDER_NOTIONAL", "")
    clean_env.setenv("ALPACA_BASE_URL", "")
    settings = load_settings()
    assert settings.max_order_notional == Decimal(100_000)
    assert settings.alpaca_base_url is None


def test_secret_id_alone_is_enough(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.delenv("ALPACA_API_KEY")
    clean_env.delenv("ALPACA_SECRET_KEY")
    clean_env.setenv("ALPACA_SECRET_ID", "rebalance/alpaca")
    assert load_settings().alpaca_secret_id == "rebalance/alpaca"


def test_secrets_never_appear_in_repr_or_dump() -> None:
    settings = load_settings()
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert "test-secret-value" not in text
        assert "test-key-id" not in text
    assert settings.alpaca_secret_key is not None
    assert settings.alpaca_secret_key.get_secret_value() == "test-secret-value"


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.dry_run = True  # type: ignore[misc]


def test_live_trading_with_both_switches(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ALPACA_PAPER", "false")
    clean_env.setenv("ALPACA_ALLOW_LIVE", "true")
    assert load_settings().is_live is True


def test_simulator_url_is_normalised(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ALPACA_BASE_URL", "http://127.0.0.1:8765/")
    assert load_settings().alpaca_base_url == "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("env", "unset", "message"),
    [
        pytest.param({}, ["ALPACA_API_KEY", "ALPACA_SECRET_KEY"],
                     "Alpaca credentials are missing: set ALPACA_SECRET_ID or ALPACA_API_KEY "
                     "and ALPACA_SECRET_KEY", id="no-credentials"),
        pytest.param({}, ["ALPACA_SECRET_KEY"],
                     "ALPACA_API_KEY and ALPACA_SECRET_KEY must be set together", id="key-only"),
        pytest.param({"ALPACA_SECRET_ID": "s"}, [],
                     "set either ALPACA_SECRET_ID (Secrets Manager) or ALPACA_API_KEY/"
                     "ALPACA_SECRET_KEY (local), not both", id="both-sources"),
        pytest.param({"ALPACA_PAPER": "false"}, [],
                     "ALPACA_PAPER=false (live trading) also requires ALPACA_ALLOW_LIVE=true",
                     id="live-without-allow"),
        pytest.param({"ALPACA_PAPER": "false", "ALPACA_ALLOW_LIVE": "true",
                      "ALPACA_BASE_URL": "http://127.0.0.1:8765"}, [],
                     "ALPACA_BASE_URL must be unset for live trading", id="live-with-override"),
        pytest.param({"ALPACA_PAPER": "false", "ALPACA_ALLOW_LIVE": "true",
                      "ALPACA_STREAM_URL": "ws://127.0.0.1:8765/stream"}, [],
                     "ALPACA_STREAM_URL must be unset for live trading",
                     id="live-with-stream-override"),
        pytest.param({"ALPACA_STREAM_URL": "http://127.0.0.1:8765/stream"}, [],
                     "ALPACA_STREAM_URL: must be a ws(s) URL", id="stream-url-scheme"),
        pytest.param({"STREAM_LAG_S": "0"}, [], "STREAM_LAG_S: must be greater than 0",
                     id="stream-lag"),
        pytest.param({"ALPACA_PAPER": "maybe"}, [], "ALPACA_PAPER: must be a valid boolean",
                     id="paper-not-bool"),
        pytest.param({"ALPACA_BASE_URL": "ftp://x"}, [],
                     "ALPACA_BASE_URL: must be an http(s) URL", id="base-url-scheme"),
        pytest.param({"ALPACA_DATA_FEED": "bloomberg"}, [], "ALPACA_DATA_FEED: must be 'iex'",
                     id="feed"),
        pytest.param({"EXECUTION_POLICY": "yolo"}, [],
                     "EXECUTION_POLICY: must be 'smart', 'anchor' or 'market'", id="policy"),
        pytest.param({"MAX_PLAN_AGE_S": "0"}, [], "MAX_PLAN_AGE_S: must be greater than 0",
                     id="plan-age"),
        pytest.param({"MAX_ORDER_NOTIONAL": "NaN"}, [],
                     "MAX_ORDER_NOTIONAL: must be a finite number", id="order-cap-nan"),
        pytest.param({"MAX_PLAN_NOTIONAL": "-5"}, [], "MAX_PLAN_NOTIONAL: must be greater than 0",
                     id="plan-cap-negative"),
        pytest.param({"MAX_PLAN_EQUITY_FRACTION": "1.5"}, [],
                     "MAX_PLAN_EQUITY_FRACTION: must be less than or equal to 1",
                     id="equity-fraction"),
        pytest.param({"CASH_RESERVE": "-1"}, [], "CASH_RESERVE: must be greater than or equal",
                     id="cash-reserve"),
        pytest.param({"MAX_PLAN_ITEMS": "0"}, [], "MAX_PLAN_ITEMS: must be greater than or equal",
                     id="plan-items"),
        pytest.param({"MAX_REQUESTS_PER_MIN": "lots"}, [], "MAX_REQUESTS_PER_MIN: must be a valid "
                     "integer", id="rate"),
        pytest.param({"DEADLINE_RESERVE_S": "-1"}, [], "DEADLINE_RESERVE_S: must be greater",
                     id="reserve"),
        pytest.param({"SMART_FINAL_CROSS_FRACTION": "0"}, [],
                     "SMART_FINAL_CROSS_FRACTION: must be greater than 0", id="final-cross"),
        pytest.param({"SMART_MAX_REPEGS": "-1"}, [], "SMART_MAX_REPEGS: must be greater",
                     id="repegs"),
    ],
)  # fmt: skip
def test_invalid_environment_is_one_clear_sentence(
    clean_env: pytest.MonkeyPatch, env: dict[str, str], unset: list[str], message: str
) -> None:
    for name in unset:
        clean_env.delenv(name)
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.reason.startswith(message)
    assert "\n" not in caught.value.reason
    assert "test-secret-value" not in caught.value.reason
