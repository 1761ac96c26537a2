"""Property tests of sizing (SPEC §4.4): whatever the inputs, no short, no overspend, no
re-sending of what earlier attempts filled."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rebalance_executor.domain.broker import Asset, Position, Quote
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import Action, PlanItem
from rebalance_executor.executor.sizing import Prior, size_item
from tests.fakes.broker import T0

CONFIG = ExecutionConfig()
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2)
qty = st.decimals(min_value=Decimal(0), max_value=Decimal(10**4), places=9)
price = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(5000), places=2)


@settings(max_examples=300, deadline=None)
@given(
    action=st.sampled_from([Action.BUY, Action.SELL]),
    amount=money,
    liquidate=st.booleans(),
    bid=price,
    fractionable=st.booleans(),
    held=qty,
    prior_qty=qty,
)
def test_sizing_invariants(
    *,
    action: Action,
    amount: Decimal,
    liquidate: bool,
    bid: Decimal,
    fractionable: bool,
    held: Decimal,
    prior_qty: Decimal,
) -> None:
    ask = bid + Decimal("0.01")
    signed = amount if action is Action.BUY else -amount
    weight = Decimal(0) if liquidate and action is Action.SELL else None
    it = PlanItem(symbol="X", action=action, trade_amount=signed, target_weight=weight)
    prior = Prior(filled_qty=prior_qty, filled_notional=prior_qty * bid)
    sized = size_item(
        it,
        asset=Asset(symbol="X", tradable=True, fractionable=fractionable),
        position=Position(symbol="X", qty=held),
        quote=Quote(symbol="X", bid=bid, ask=ask, timestamp=T0),
        prior=prior,
        now=T0,
        config=CONFIG,
    )
    if sized.reason is not None:
        assert sized.planned_qty == 0
        return
    mid = (bid + ask) / 2
    new = sized.planned_qty - prior_qty
    assert new >= 0  # never plans to undo or re-send earlier fills
    liquidation = action is Action.SELL and liquidate
    if not fractionable and not liquidation:
        assert new == new.to_integral_value()
    assert new == new.quantize(Decimal("0.000000001"))
    if action is Action.SELL:
        assert sized.planned_qty <= held + prior_qty  # never short by accident
        if liquidate:
            assert sized.planned_qty == held + prior_qty  # exactly to zero
    if not liquidation:
        # dollars: the new part never exceeds what is left of the plan's amount
        assert new * mid <= max(Decimal(0), amount - prior_qty * bid) + Decimal("0.000001")
