"""A read-only snapshot of the shared FakeBroker (our own domain port) for planner unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from rebalance_executor.domain.broker import BrokerOrder
from tests.fakes.broker import FakeBroker, VirtualClock

NOW = datetime(2026, 11, 2, 20, 45, tzinfo=UTC)
_PRICES = {"SPY": "500", "BND": "70", "QQQ": "400", "AAPL": "200"}
_SPREAD = Decimal("0.02")
# The planner reads the account, market and book; it must never write or read single orders.
_WRITES = frozenset(
    {"get_order", "get_order_by_client_id", "submit_order", "replace_order", "cancel_order"}
)


def snapshot_broker(
    *,
    equity: str = "100000",
    positions: Mapping[str, str] | None = None,
    prices: Mapping[str, str] | None = None,
    orders: Sequence[BrokerOrder] = (),
    is_open: bool = True,
    untradable: Iterable[str] = (),
    non_fractionable: Iterable[str] = (),
) -> FakeBroker:
    """A frozen broker at ``NOW``: quotes ``prices`` (mids) ±1 cent, cash = ``equity``, the
    ``orders`` never fill; any write or single-order read raises AssertionError."""
    mids = {s: Decimal(p) for s, p in (prices or _PRICES).items()}
    return FakeBroker(
        clock=VirtualClock(start=NOW),
        cash=Decimal(equity),
        equity=Decimal(equity),
        positions={s: Decimal(q) for s, q in (positions or {}).items()},
        quotes={s: (m - _SPREAD / 2, m + _SPREAD / 2) for s, m in mids.items()},
        non_fractionable=set(non_fractionable),
        untradable=set(untradable),
        market_open=is_open,
        next_open=NOW,
        fills=False,
        forbidden=_WRITES,
        orders={o.id: o for o in orders},
    )
