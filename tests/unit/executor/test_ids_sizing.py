"""Client order ids (SPEC §4.2) and sizing rules (SPEC §4.4) on plain values."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import Asset, Position, Quote
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import Action, PlanItem
from rebalance_executor.domain.result import Reason
from rebalance_executor.executor.ids import client_order_id, parse_client_order_id, plan_key
from rebalance_executor.executor.sizing import (
    Prior,
    Sized,
    quote_problem,
    round_qty,
    scale_factor,
    size_item,
)
from tests.fakes.broker import T0

CONFIG = ExecutionConfig()


def q(bid: str, ask: str, age_s: float = 0.0) -> Quote:
    return Quote(
        symbol="X", bid=Decimal(bid), ask=Decimal(ask), timestamp=T0 - timedelta(seconds=age_s)
    )


def asset(fractionable: bool = True, tradable: bool = True) -> Asset:
    return Asset(symbol="X", tradable=tradable, fractionable=fractionable)


def item(action: Action, amount: str, target_weight: str | None = None) -> PlanItem:
    tw = Decimal(target_weight) if target_weight is not None else None
    return PlanItem(symbol="X", action=action, trade_amount=Decimal(amount), target_weight=tw)


def size(
    it: PlanItem,
    quote: Quote | None,
    *,
    held: str | None = None,
    prior: Prior | None = None,
    fractionable: bool = True,
) -> Sized:
    pos = Position(symbol="X", qty=Decimal(held)) if held is not None else None
    return size_item(
        it,
        asset=asset(fractionable),
        position=pos,
        quote=quote,
        prior=prior or Prior(),
        now=T0,
        config=CONFIG,
    )


def test_client_order_ids_are_deterministic_short_and_parseable() -> None:
    key = plan_key("plan-2026-03-02:rebalance")
    assert key == plan_key("plan-2026-03-02:rebalance")
    assert key != plan_key("plan-2026-03-02:rebalance2")
    assert len(key) == 16
    coid = client_order_id(key, 499, 12)
    assert len(coid) <= 48
    assert parse_client_order_id(key, coid) == (499, 12)
    assert parse_client_order_id(plan_key("other"), coid) is None
    assert parse_client_order_id(key, "random-uuid-like-id") is None
    assert parse_client_order_id(key, f"{key}-x-1") is None
    longest = client_order_id(key, 10**9, 10**9)
    assert len(longest) <= 48
    with pytest.raises(ValueError, match="non-negative"):
        client_order_id(key, -1, 0)


@pytest.mark.parametrize(
    ("quote", "fragment"),
    [
        (None, "no quote"),
        (q("0", "10"), "one-sided quote: no bid"),
        (q("10", "0"), "one-sided quote: no ask"),
        (q("0", "0"), "one-sided quote"),
        (q("10.01", "10.00"), "crossed"),
        (q("10.00", "10.01", age_s=11), "old"),
        (q("10.00", "10.50"), "spread"),
    ],
)
def test_invalid_quotes_are_refused_never_guessed(quote: Quote | None, fragment: str) -> None:
    problem = quote_problem(quote, T0, CONFIG)
    assert problem is not None
    assert fragment in problem
    sized = size(item(Action.BUY, "1000"), quote)
    assert sized.reason is Reason.NO_VALID_QUOTE
    assert sized.planned_qty == 0


def test_buy_qty_is_amount_over_mid_floored_to_nine_decimals() -> None:
    sized = size(item(Action.BUY, "1000"), q("299.99", "300.01"))
    assert sized.reason is None
    assert sized.ref_price == Decimal("300.00")
    assert sized.planned_qty == Decimal("3.333333333")


def test_non_fractionable_floors_to_whole_shares_and_too_small_is_below_min() -> None:
    assert (
        size(item(Action.BUY, "1000"), q("299.99", "300.01"), fractionable=False).planned_qty == 3
    )
    tiny = size(item(Action.BUY, "200"), q("299.99", "300.01"), fractionable=False)
    assert tiny.reason is Reason.BELOW_MIN_NOTIONAL


def test_below_min_notional_is_not_traded() -> None:
    sized = size(item(Action.BUY, "0.50"), q("9.99", "10.01"))
    assert sized.reason is Reason.BELOW_MIN_NOTIONAL


def test_sell_is_capped_at_position_and_no_position_is_reported() -> None:
    capped = size(item(Action.SELL, "-5000"), q("99.99", "100.01"), held="12.5")
    assert capped.planned_qty == Decimal("12.5")
    none = size(item(Action.SELL, "-500"), q("99.99", "100.01"))
    assert none.reason is Reason.NO_POSITION


def test_liquidation_sells_exact_fractional_holding() -> None:
    sized = size(
        item(Action.SELL, "-100", target_weight="0"), q("99.99", "100.01"), held="7.123456789"
    )
    assert sized.planned_qty == Decimal("7.123456789")


def test_rerun_plans_only_the_unspent_dollars() -> None:
    prior = Prior(filled_qty=Decimal(6), filled_notional=Decimal(600))
    sized = size(item(Action.BUY, "1000"), q("109.99", "110.01"), prior=prior)
    # $400 left at $110 -> 3.636363636 more shares; total planned includes the 6 already filled.
    assert sized.planned_qty == Decimal(6) + Decimal("3.636363636")


def test_rerun_of_liquidation_counts_earlier_sells() -> None:
    prior = Prior(filled_qty=Decimal(4), filled_notional=Decimal(400))
    sized = size(
        item(Action.SELL, "-1000", target_weight="0"), q("99.99", "100.01"), held="6", prior=prior
    )
    assert sized.planned_qty == Decimal(10)


def test_not_tradable_asset_is_reported() -> None:
    it = item(Action.BUY, "1000")
    sized = size_item(
        it,
        asset=asset(tradable=False),
        position=None,
        quote=q("1", "1.001"),
        prior=Prior(),
        now=T0,
        config=CONFIG,
    )
    assert sized.reason is Reason.NOT_TRADABLE


def test_round_qty_and_proportional_scale_factor() -> None:
    assert round_qty(Decimal("1.9999999999"), True) == Decimal("1.999999999")
    assert round_qty(Decimal("1.99"), False) == 1
    assert round_qty(Decimal("-1"), True) == 0
    assert scale_factor([Decimal(600), Decimal(400)], Decimal(2000)) == 1
    assert scale_factor([Decimal(600), Decimal(400)], Decimal(500)) == Decimal("0.5")
    assert scale_factor([Decimal(600)], Decimal(-5)) == 0


def test_a_retry_keeps_the_size_its_first_order_fixed() -> None:
    """Attempt 1 sized 10 shares and filled them for $990 of a $1,000 plan: the retry does not
    top the item up on the $10 left, nor re-size it on the new price (SPEC §4.2)."""
    prior = Prior(filled_qty=Decimal(10), filled_notional=Decimal(990), target_qty=Decimal(10))
    for mid in ("99.00", "90.00"):
        bid, ask = Decimal(mid) - Decimal("0.01"), Decimal(mid) + Decimal("0.01")
        quote = Quote(symbol="SPY", bid=bid, ask=ask, timestamp=T0)
        sized = size_item(
            PlanItem(symbol="SPY", action=Action.BUY, trade_amount=Decimal(1000)),
            asset=Asset(symbol="SPY", tradable=True, fractionable=True),
            position=None,
            quote=quote,
            prior=prior,
            now=T0,
            config=ExecutionConfig(),
        )
        assert sized.reason is None
        assert sized.planned_qty == 10
