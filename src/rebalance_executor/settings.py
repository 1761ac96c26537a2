"""Configuration from the environment (SPEC §3.4, §6); the names are the public contract.

:func:`load_settings` validates everything at cold start and raises :class:`SettingsError` with
one sentence naming the variable. The executor sees only :meth:`Settings.execution_config`.
Every name, default and meaning is listed in docs/configuration.md.

Live-trading decision: ``ALPACA_PAPER=false`` alone is not enough. Live trading also needs
``ALPACA_ALLOW_LIVE=true`` (two independent switches, so one typo cannot trade real money) and
``ALPACA_BASE_URL`` unset (live keys are only ever sent to Alpaca's own endpoints, never to an
override such as the simulator).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Final, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy, SmartSchedule
from rebalance_executor.domain.plan import DEFAULT_MAX_PLAN_ITEMS

_EXEC: Final = ExecutionConfig()
_SMART: Final = SmartSchedule()


class DataFeed(StrEnum):
    """Alpaca market-data feeds (alpaca-py ``DataFeed`` values)."""

    IEX = "iex"
    SIP = "sip"
    DELAYED_SIP = "delayed_sip"
    OTC = "otc"
    BOATS = "boats"
    OVERNIGHT = "overnight"


class SettingsError(ValueError):
    """The environment is invalid; ``reason`` is one sentence naming the variable."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an http(s) URL such as http://127.0.0.1:8765")
    return value.rstrip("/")


def _optional_cap(value: object) -> object:
    # An explicit "none" lifts a cap; an empty or absent variable keeps the safe default.
    if isinstance(value, str) and value.strip().lower() in {"none", "off"}:
        return None
    return value


def _ws_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"ws", "wss"} or not parts.netloc:
        raise ValueError("must be a ws(s) URL such as ws://127.0.0.1:8765/stream")
    return value.rstrip("/")


HttpUrlText = Annotated[str, AfterValidator(_http_url)]
WsUrlText = Annotated[str, AfterValidator(_ws_url)]
PositiveMoney = Annotated[Decimal, Field(gt=0, le=Decimal(10) ** 12, allow_inf_nan=False)]
OptionalCap = BeforeValidator(_optional_cap)


class Settings(BaseSettings):
    """All environment settings. Field ``foo_bar`` is read from ``FOO_BAR``."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    # Broker credentials and endpoints.
    alpaca_api_key: SecretStr | None = None
    alpaca_secret_key: SecretStr | None = None
    alpaca_secret_id: str | None = Field(default=None, min_length=1, max_length=2048)
    alpaca_paper: bool = True
    alpaca_allow_live: bool = False
    alpaca_base_url: HttpUrlText | None = None
    alpaca_data_feed: DataFeed = DataFeed.IEX
    # Streams (SPEC §4.6): on by default; their URLs follow ALPACA_BASE_URL (http → ws,
    # /stream and /v2/{feed}) unless set here.
    streams_enabled: bool = True
    alpaca_stream_url: WsUrlText | None = None
    alpaca_data_stream_url: WsUrlText | None = None
    # AWS resources (boto3 reads AWS_ENDPOINT_URL itself; kept here to report it).
    aws_endpoint_url: HttpUrlText | None = None
    results_bucket: str | None = Field(default=None, min_length=3, max_length=63)
    idempotency_table: str | None = Field(default=None, min_length=3, max_length=255)
    lock_table: str | None = Field(default=None, min_length=3, max_length=255)
    event_bus_name: str | None = Field(default=None, min_length=1, max_length=256)
    # Execution policy and safety limits (SPEC §6).
    execution_policy: ExecutionPolicy = _EXEC.policy
    max_plan_age_s: float = Field(default=900.0, gt=0, le=7 * 24 * 3600)
    kill_switch: bool = False
    kill_switch_parameter: str | None = Field(default=None, min_length=1, max_length=2048)
    dry_run: bool = False
    max_order_notional: Annotated[PositiveMoney | None, OptionalCap] = Decimal(100_000)
    max_plan_notional: Annotated[PositiveMoney | None, OptionalCap] = Decimal(1_000_000)
    max_plan_equity_fraction: Annotated[
        Annotated[Decimal, Field(gt=0, le=1)] | None, OptionalCap
    ] = Decimal(1)
    cash_reserve: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = _EXEC.cash_reserve
    allow_margin: bool = _EXEC.allow_margin
    min_order_notional: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = (
        _EXEC.min_order_notional
    )
    quote_max_age_s: float = Field(default=_EXEC.quote_max_age_s, gt=0)
    max_spread_bps: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] = _EXEC.max_spread_bps
    max_collar_bps: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] = _EXEC.max_collar_bps
    max_requests_per_min: int = Field(default=180, ge=1, le=10_000)
    max_plan_items: int = Field(default=DEFAULT_MAX_PLAN_ITEMS, ge=1, le=10_000)
    # Time budget and broker I/O (SPEC §4.6, §4.7).
    deadline_reserve_s: float = Field(default=8.0, gt=0, le=300)
    broker_timeout_s: float = Field(default=10.0, gt=0, le=120)
    poll_interval_s: float = Field(default=_EXEC.poll_interval_s, gt=0, le=60)
    max_poll_interval_s: float = Field(default=_EXEC.max_poll_interval_s, gt=0, le=60)
    sell_wait_max_s: float = Field(default=_EXEC.sell_wait_max_s, gt=0)
    stream_lag_s: float = Field(default=_EXEC.stream_lag_s, gt=0, le=60)
    stream_silence_s: float = Field(default=_EXEC.stream_silence_s, gt=0, le=300)
    # Smart policy tuning (SPEC §4.5); bounds mirror domain.config.SmartSchedule.
    smart_start_aggressiveness: Annotated[Decimal, Field(ge=0, le=1)] = _SMART.start_aggressiveness
    smart_step_aggressiveness: Annotated[Decimal, Field(ge=0, le=1)] = _SMART.step_aggressiveness
    smart_repeg_interval_s: float = Field(default=_SMART.repeg_interval_s, gt=0)
    smart_max_repegs: int = Field(default=_SMART.max_repegs, ge=0, le=100)
    smart_final_cross_fraction: Annotated[Decimal, Field(gt=0, le=1)] = _SMART.final_cross_fraction
    smart_cross_buffer_bps: Annotated[Decimal, Field(ge=0)] = _SMART.cross_buffer_bps
    smart_cross_with_market: bool = _SMART.cross_with_market
    smart_min_passive_spread_bps: Annotated[Decimal, Field(ge=0)] = _SMART.min_passive_spread_bps
    smart_finish_fraction: Annotated[Decimal, Field(gt=0, le=1)] = _SMART.finish_fraction
    smart_finish_buffer_bps: Annotated[Decimal, Field(ge=0, le=500)] = _SMART.finish_buffer_bps
    smart_recheck_s: float = Field(default=_SMART.recheck_s, gt=0)
    smart_take_on_move_spreads: Annotated[Decimal, Field(ge=0)] = _SMART.take_on_move_spreads
    smart_join_max_wait_s: float = Field(default=_SMART.join_max_wait_s, ge=0)
    smart_join_max_spread_ticks: int = Field(default=_SMART.join_max_spread_ticks, ge=1)
    smart_repeg_move_spreads: Annotated[Decimal, Field(ge=0)] = _SMART.repeg_move_spreads
    smart_bars_minutes: int = Field(default=_SMART.bars_minutes, ge=0, le=390)
    smart_trend_z: Annotated[Decimal, Field(ge=0)] = _SMART.trend_z
    smart_take_on_trend_halfspreads: Annotated[Decimal, Field(ge=0)] = (
        _SMART.take_on_trend_halfspreads
    )
    smart_take_on_volatility_spreads: Annotated[Decimal, Field(ge=0)] = (
        _SMART.take_on_volatility_spreads
    )

    @model_validator(mode="after")
    def _check_credentials(self) -> Self:
        has_key = self.alpaca_api_key is not None
        has_secret = self.alpaca_secret_key is not None
        if has_key != has_secret:
            raise ValueError("ALPACA_API_KEY and ALPACA_SECRET_KEY must be set together")
        if self.alpaca_secret_id is not None and has_key:
            raise ValueError(
                "set either ALPACA_SECRET_ID (Secrets Manager) or ALPACA_API_KEY/"
                "ALPACA_SECRET_KEY (local), not both"
            )
        if self.alpaca_secret_id is None and not has_key:
            raise ValueError(
                "Alpaca credentials are missing: set ALPACA_SECRET_ID or ALPACA_API_KEY "
                "and ALPACA_SECRET_KEY"
            )
        return self

    @model_validator(mode="after")
    def _check_smart_phases(self) -> Self:
        if self.smart_finish_fraction < self.smart_final_cross_fraction:
            raise ValueError("SMART_FINISH_FRACTION must be >= SMART_FINAL_CROSS_FRACTION")
        return self

    @model_validator(mode="after")
    def _check_trading_mode(self) -> Self:
        if self.alpaca_paper:
            return self
        if not self.alpaca_allow_live:
            raise ValueError(
                "ALPACA_PAPER=false (live trading) also requires ALPACA_ALLOW_LIVE=true"
            )
        overrides = {
            "ALPACA_BASE_URL": self.alpaca_base_url,
            "ALPACA_STREAM_URL": self.alpaca_stream_url,
            "ALPACA_DATA_STREAM_URL": self.alpaca_data_stream_url,
        }
        for name, value in overrides.items():
            if value is not None:
                raise ValueError(
                    f"{name} must be unset for live trading (ALPACA_PAPER=false): live keys "
                    "go only to Alpaca's own endpoints"
                )
        return self

    @property
    def is_live(self) -> bool:
        """True only when real money trades (paper off, live explicitly allowed, no override)."""
        return not self.alpaca_paper

    def smart_schedule(self) -> SmartSchedule:
        """The smart policy tuning (SPEC §4.5) as the domain model."""
        return SmartSchedule(
            start_aggressiveness=self.smart_start_aggressiveness,
            step_aggressiveness=self.smart_step_aggressiveness,
            repeg_interval_s=self.smart_repeg_interval_s,
            max_repegs=self.smart_max_repegs,
            final_cross_fraction=self.smart_final_cross_fraction,
            cross_buffer_bps=self.smart_cross_buffer_bps,
            cross_with_market=self.smart_cross_with_market,
            min_passive_spread_bps=self.smart_min_passive_spread_bps,
            finish_fraction=self.smart_finish_fraction,
            finish_buffer_bps=self.smart_finish_buffer_bps,
            recheck_s=self.smart_recheck_s,
            take_on_move_spreads=self.smart_take_on_move_spreads,
            join_max_wait_s=self.smart_join_max_wait_s,
            join_max_spread_ticks=self.smart_join_max_spread_ticks,
            repeg_move_spreads=self.smart_repeg_move_spreads,
            bars_minutes=self.smart_bars_minutes,
            trend_z=self.smart_trend_z,
            take_on_trend_halfspreads=self.smart_take_on_trend_halfspreads,
            take_on_volatility_spreads=self.smart_take_on_volatility_spreads,
        )

    def execution_config(self) -> ExecutionConfig:
        """The executor's limits and tuning; never raises for a Settings that loaded."""
        return ExecutionConfig(
            policy=self.execution_policy,
            smart=self.smart_schedule(),
            dry_run=self.dry_run,
            kill_switch=self.kill_switch,
            max_order_notional=self.max_order_notional,
            max_plan_notional=self.max_plan_notional,
            max_plan_equity_fraction=self.max_plan_equity_fraction,
            cash_reserve=self.cash_reserve,
            allow_margin=self.allow_margin,
            min_order_notional=self.min_order_notional,
            quote_max_age_s=self.quote_max_age_s,
            max_spread_bps=self.max_spread_bps,
            max_collar_bps=self.max_collar_bps,
            poll_interval_s=self.poll_interval_s,
            max_poll_interval_s=max(self.max_poll_interval_s, self.poll_interval_s),
            sell_wait_max_s=self.sell_wait_max_s,
            stream_lag_s=self.stream_lag_s,
            stream_silence_s=self.stream_silence_s,
        )


def load_settings() -> Settings:
    """Read and validate the environment (call once per cold start).

    Raises SettingsError with one sentence naming the offending variable and the rule.
    """
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    message = str(first.get("ctx", {}).get("error", first["msg"])).splitlines()[0]
    message = message.replace("Input should be", "must be")
    names = [str(part).upper() for part in first["loc"]]
    if not names:  # cross-field rule: the message already names the variables
        return message
    return f"{names[0]}: {message}"
