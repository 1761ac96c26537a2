"""Preflight (SPEC §4.1): everything read from the broker before any order is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from rebalance_executor.domain.broker import (
    AccountSnapshot,
    Asset,
    BrokerError,
    BrokerPort,
    BrokerUnavailableError,
    MarketClock,
    Position,
    Quote,
)
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.result import ItemReference
from rebalance_executor.executor.reference import read_references


@dataclass(frozen=True)
class Gate:
    """Account and market state that decides whether to trade at all."""

    account: AccountSnapshot
    clock: MarketClock

    def blocked_reason(self) -> str | None:
        a = self.account
        for flag in ("trading_blocked", "account_blocked", "trade_suspended_by_user"):
            if getattr(a, flag):
                return f"account {flag} is set"
        return None


@dataclass(frozen=True)
class Market:
    """Assets, positions, quotes and reference prices for the plan's symbols."""

    assets: Mapping[str, Asset]
    positions: Mapping[str, Position]
    quotes: Mapping[str, Quote]
    references: Mapping[str, ItemReference]


async def read_gate(broker: BrokerPort) -> Gate:
    """Account flags and market clock. Raises BrokerUnavailableError on any broker failure."""
    try:
        return Gate(account=await broker.get_account(), clock=await broker.get_clock())
    except BrokerUnavailableError:
        raise
    except BrokerError as exc:
        raise BrokerUnavailableError(f"preflight account/clock failed: {exc}") from exc


async def read_market(
    broker: BrokerPort, symbols: set[str], *, now: datetime, config: ExecutionConfig
) -> Market:
    """Assets, positions, quotes, and each symbol's reference price (latest trades and bars are
    read only for symbols whose quote is unusable). Raises BrokerUnavailableError on any broker
    failure."""
    try:
        assets = await broker.get_assets(symbols)
        positions = await broker.get_positions()
        quotes = await broker.get_latest_quotes(symbols)
        references = await read_references(broker, quotes, symbols, now=now, config=config)
    except BrokerUnavailableError:
        raise
    except BrokerError as exc:
        # Nothing has been sent yet: a Lambda retry is the right recovery for any broker failure.
        raise BrokerUnavailableError(f"preflight market read failed: {exc}") from exc
    return Market(assets=assets, positions=positions, quotes=quotes, references=references)
