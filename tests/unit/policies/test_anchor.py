"""The anchor (reference) policy: near touch + 1c, one re-peg after 10 s, market after 20 s."""

from __future__ import annotations

from decimal import Decimal

from rebalance_executor.domain.broker import Side
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy
from rebalance_executor.executor.policies import AnchorPolicy, DesiredKind, policy_for
from rebalance_executor.executor.policies.anchor import anchor_prices
from tests.unit.policies.inputs import limit_order, quote, state

D = Decimal
POLICY = AnchorPolicy()
CONFIG = ExecutionConfig()
Q = quote("100.00", "100.10")


def test_selected_by_setting() -> None:
    assert isinstance(policy_for(ExecutionPolicy.ANCHOR), AnchorPolicy)


def test_prices() -> None:
    assert anchor_prices(Q, Side.BUY) == (D("100.01"), D("100.06"))  # 100.065 down
    assert anchor_prices(Q, Side.SELL) == (D("100.09"), D("100.04"))  # 100.035 up


def test_first_order_is_held_for_ten_seconds() -> None:
    first = POLICY.decide(state(Q), CONFIG)
    assert (first.kind, first.limit_price) == (DesiredKind.LIMIT, D("100.01"))
    moved = quote("100.50", "100.60")
    held = POLICY.decide(state(moved, t=9.0, order=limit_order("100.01"), order_age_s=9), CONFIG)
    assert held.kind is DesiredKind.KEEP


def test_one_repeg_then_market() -> None:
    repeg = POLICY.decide(state(Q, t=10.0, order=limit_order("100.01"), order_age_s=10), CONFIG)
    assert (repeg.kind, repeg.limit_price) == (DesiredKind.LIMIT, D("100.06"))
    again = POLICY.decide(state(Q, t=15.0, order=limit_order("100.11"), order_age_s=4), CONFIG)
    assert again.kind is DesiredKind.KEEP
    assert (
        POLICY.decide(state(Q, t=20.0, order=limit_order("100.11"), order_age_s=9), CONFIG).kind
        is DesiredKind.MARKET
    )


def test_stale_quote_holds_until_market_time() -> None:
    stale = quote("100.00", "100.10", age_s=60)
    assert POLICY.decide(state(stale), CONFIG).kind is DesiredKind.KEEP
    assert POLICY.decide(state(stale, t=25.0), CONFIG).kind is DesiredKind.MARKET
