"""Preflight (SPEC §4.1): everything read from the broker before any order is sent."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

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
from rebalance_executor.domain.clock import Clock, Deadline
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.result import ItemReference
from rebalance_executor.executor.reference import await_references, read_references

# No order is worked in the last SESSION_CLOSE_MARGIN_S seconds before the market clock's
# next_close: the working window ends there and its wind-down (at most 30 s of cancels and final
# reads) is over before the close, so no DAY order of the plan is left to expire (SPEC §6).
SESSION_CLOSE_MARGIN_S = 60.0


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

    def seconds_to_close(self) -> float | None:
        """Seconds from the broker's clock reading to the session close (None when unknown)."""
        c = self.clock
        if c.next_close is None:
            return None
        return (c.next_close - c.timestamp).total_seconds()

    def closed_reason(self) -> str | None:
        """Why the market does not admit trading now: closed, or closing within the margin."""
        if not self.clock.is_open:
            return "market is closed"
        to_close = self.seconds_to_close()
        if to_close is not None and to_close <= SESSION_CLOSE_MARGIN_S:
            return (
                f"market closes in {to_close:.0f}s, within the {SESSION_CLOSE_MARGIN_S:.0f}s "
                "session-close margin"
            )
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
    broker: BrokerPort,
    symbols: set[str],
    *,
    clock: Clock,
    config: ExecutionConfig,
    reference_wait_s: float,
) -> Market:
    """Assets, positions, quotes, and each symbol's reference price (latest trades and bars are
    read only for symbols whose quote is unusable; those are re-read for up to
    ``reference_wait_s``). Raises BrokerUnavailableError on any broker failure."""
    try:
        assets = await broker.get_assets(symbols)
        positions = await broker.get_positions()
        quotes = await broker.get_latest_quotes(symbols)
        references = await read_references(broker, quotes, symbols, now=clock.now(), config=config)
        quotes, references = await await_references(
            broker, quotes, references, clock=clock, config=config, wait_s=reference_wait_s
        )
    except BrokerUnavailableError:
        raise
    except BrokerError as exc:
        # Nothing has been sent yet: a Lambda retry is the right recovery for any broker failure.
        raise BrokerUnavailableError(f"preflight market read failed: {exc}") from exc
    return Market(assets=assets, positions=positions, quotes=quotes, references=references)


def session_deadline(deadline: Deadline, gate: Gate, clock: Clock) -> Deadline:
    """``deadline`` with its stop point moved before the session close when the close comes
    first: stop = min(deadline stop, next_close - SESSION_CLOSE_MARGIN_S), on the monotonic
    clock (the close is measured on the broker's clock, so local clock skew does not matter)."""
    to_close = gate.seconds_to_close()
    if to_close is None:
        return deadline
    close_stop = clock.monotonic() + to_close - SESSION_CLOSE_MARGIN_S
    if close_stop >= deadline.stop_at:
        return deadline
    return dataclasses.replace(deadline, stop_at=close_stop)
