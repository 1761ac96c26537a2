"""execute_plan through its public interface against a fake of our own BrokerPort."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import BrokerUnavailableError, Side
from rebalance_executor.domain.clock import Deadline
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy, SmartSchedule
from rebalance_executor.domain.plan import Action, PlanItem, RebalancePlan
from rebalance_executor.domain.result import (
    ExecutionResult,
    ExecutionStatus,
    ExecutionSummary,
    ItemOutcome,
    Reason,
)
from rebalance_executor.executor import KillSwitch, execute_plan
from tests.fakes.broker import T0, FakeBroker, VirtualClock
from tests.fakes.kill_switch import FakeKillSwitch

MARKET = ExecutionConfig(policy=ExecutionPolicy.MARKET)


def plan(
    *items: tuple[str, Action, str] | tuple[str, Action, str, str], plan_id: str = "p-1"
) -> RebalancePlan:
    return RebalancePlan(
        plan_id=plan_id,
        timestamp=T0,
        items=tuple(
            PlanItem(
                symbol=i[0],
                action=i[1],
                trade_amount=Decimal(i[2]),
                target_weight=Decimal(i[3]) if len(i) > 3 else None,
            )
            for i in items
        ),
    )


@pytest.fixture
def broker() -> FakeBroker:
    b = FakeBroker(clock=VirtualClock(), cash=Decimal(10_000))
    b.quote("AAA", "99.99", "100.01")
    b.quote("BBB", "49.99", "50.01")
    b.quote("CCC", "199.98", "200.02")
    b.positions = {"AAA": Decimal("20.5"), "BBB": Decimal(10)}
    return b


def run(
    p: RebalancePlan,
    broker: FakeBroker,
    config: ExecutionConfig = MARKET,
    kill: KillSwitch | None = None,
    window_s: float = 120.0,
) -> ExecutionResult:
    deadline = Deadline.from_remaining(broker.clock, window_s + 10, reserve_s=8.0)
    return asyncio.run(
        execute_plan(
            p, broker=broker, clock=broker.clock, deadline=deadline, config=config, kill_switch=kill
        )
    )


MIXED = plan(
    ("AAA", Action.SELL, "-1000", "0"),  # liquidate 20.5 shares
    ("BBB", Action.SELL, "-200"),
    ("CCC", Action.BUY, "8000"),
    ("DDD", Action.HOLD, "0"),
)


def test_mixed_plan_succeeds_from_fills_and_sells_precede_buys(broker: FakeBroker) -> None:
    result = run(MIXED, broker)
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason
    assert broker.positions["AAA"] == 0  # exact liquidation, fractional included
    assert broker.positions["BBB"] == Decimal(6)  # $200 / $50 mid
    assert broker.positions["CCC"] == Decimal(40)
    assert not [e for e in broker.events if e[0] == "buy_while_sell_live"]
    first_buy = next(i for i, s in enumerate(broker.submits) if s.side is Side.BUY)
    assert all(s.side is Side.SELL for s in broker.submits[:first_buy])
    by_symbol = {i.symbol: i for i in result.items}
    assert by_symbol["DDD"].outcome is ItemOutcome.HOLD
    ccc = by_symbol["CCC"]
    assert ccc.filled_qty == Decimal(40)
    assert ccc.avg_fill_price == Decimal("200.02")
    assert ccc.slippage_bps == Decimal("1.00")
    assert ccc.orders[0].client_order_id.endswith("-2-0")
    assert result.tca is not None
    assert result.tca.requests_total == broker.requests
    assert 0 < result.tca.peak_requests_per_min <= broker.requests


def test_buys_are_scaled_to_buying_power_minus_reserve(broker: FakeBroker) -> None:
    config = MARKET.model_copy(update={"cash_reserve": Decimal(1000)})
    p = plan(("CCC", Action.BUY, "12000"))
    result = run(p, broker, config)
    spent = sum(o.filled_qty * (o.filled_avg_price or 0) for o in broker.orders.values())
    assert spent <= Decimal(9000)
    item = result.items[0]
    assert item.outcome is ItemOutcome.PARTIAL
    assert item.reason is Reason.BUYING_POWER
    assert item.reason_detail is not None
    assert "shortfall" in item.reason_detail
    assert result.status is ExecutionStatus.PARTIAL


def test_rerun_after_partial_fills_finishes_remainder_without_overfill(broker: FakeBroker) -> None:
    p = plan(("CCC", Action.BUY, "4000"))
    broker.partial = Decimal("0.1")
    first = run(p, broker, window_s=2.5)  # stops early: only a few tenth-fills land
    assert first.status is ExecutionStatus.PARTIAL
    done_first = broker.filled("CCC", Side.BUY)
    assert 0 < done_first < 20
    broker.partial = Decimal(1)
    second = run(p, broker)
    assert second.status is ExecutionStatus.SUCCEEDED, second.reason
    total = broker.filled("CCC", Side.BUY)
    assert total <= Decimal("20")
    assert total * Decimal("200.02") >= Decimal(3990)
    coids = [o.client_order_id for o in broker.orders.values()]
    assert len(coids) == len(set(coids))


def test_lost_submit_response_is_adopted_not_doubled(broker: FakeBroker) -> None:
    broker.lose_next_submits = 1
    result = run(plan(("CCC", Action.BUY, "2000")), broker)
    assert result.status is ExecutionStatus.SUCCEEDED
    assert len(broker.orders) == 1
    assert broker.filled("CCC", Side.BUY) == Decimal(10)


def test_item_without_valid_quote_is_reported_not_guessed(broker: FakeBroker) -> None:
    broker.quote("CCC", "200", "230")  # spread far above 100 bps
    result = run(plan(("BBB", Action.SELL, "-100"), ("CCC", Action.BUY, "2000")), broker)
    ccc = result.items[1]
    assert ccc.outcome is ItemOutcome.NOT_TRADED
    assert ccc.reason is Reason.NO_VALID_QUOTE
    assert all(s.symbol != "CCC" for s in broker.submits)
    assert result.status is ExecutionStatus.PARTIAL


def test_dry_run_sends_nothing_and_records_intentions(broker: FakeBroker) -> None:
    result = run(MIXED, broker, MARKET.model_copy(update={"dry_run": True}))
    assert result.status is ExecutionStatus.DRY_RUN
    assert broker.submits == []
    ccc = next(i for i in result.items if i.symbol == "CCC")
    assert ccc.outcome is ItemOutcome.DRY_RUN
    assert ccc.planned_qty == Decimal(40)


@pytest.mark.parametrize(
    ("update", "fragment"),
    [
        ({"max_order_notional": Decimal(5000)}, "MAX_ORDER_NOTIONAL"),
        ({"max_plan_notional": Decimal(9000)}, "MAX_PLAN_NOTIONAL"),
        ({"max_plan_equity_fraction": Decimal("0.5")}, "MAX_PLAN_EQUITY_FRACTION"),
    ],
)
def test_caps_reject_before_trading(
    broker: FakeBroker, update: dict[str, Decimal], fragment: str
) -> None:
    result = run(MIXED, broker, MARKET.model_copy(update=update))
    assert result.status is ExecutionStatus.REJECTED
    assert result.reason is not None
    assert fragment in result.reason
    assert broker.submits == []
    traded = [i for i in result.items if i.action is not Action.HOLD]
    assert all(i.reason is Reason.ORDER_CAP for i in traded)


def test_gates(broker: FakeBroker) -> None:
    broker.market_open = False
    assert run(MIXED, broker).status is ExecutionStatus.SKIPPED
    broker.market_open, broker.blocked = True, True
    blocked = run(MIXED, broker)
    assert blocked.status is ExecutionStatus.REJECTED
    assert "trading_blocked" in (blocked.reason or "")
    broker.blocked = False
    assert run(plan(("AAA", Action.HOLD, "0")), broker).status is ExecutionStatus.SKIPPED
    assert run(plan(("AAA", Action.BUY, "0.2")), broker).status is ExecutionStatus.SKIPPED
    assert broker.submits == []


def test_kill_switch_at_start_rejects_and_between_phases_stops_buys(broker: FakeBroker) -> None:
    at_start = run(MIXED, broker, kill=FakeKillSwitch([True]))
    assert all(
        i.reason is Reason.KILL_SWITCH for i in at_start.items if i.action is not Action.HOLD
    )
    assert at_start.status is ExecutionStatus.REJECTED
    assert broker.submits == []
    config_kill = run(MIXED, broker, MARKET.model_copy(update={"kill_switch": True}))
    assert config_kill.status is ExecutionStatus.REJECTED
    # checks: at start, on the sell phase's one tick (market sells fill on its listing), then
    # between the phases
    later = run(MIXED, broker, kill=FakeKillSwitch([False, False, True]))
    assert all(s.side is Side.SELL for s in broker.submits)
    ccc = next(i for i in later.items if i.symbol == "CCC")
    assert ccc.reason is Reason.KILL_SWITCH
    assert later.status is ExecutionStatus.PARTIAL


def test_preflight_broker_failure_raises_for_lambda_retry(broker: FakeBroker) -> None:
    broker.fail_reads = True
    with pytest.raises(BrokerUnavailableError):
        run(MIXED, broker)
    assert broker.submits == []


def test_every_configured_policy_is_implemented(broker: FakeBroker) -> None:
    result = run(MIXED, broker, ExecutionConfig(policy=ExecutionPolicy.SMART))
    assert result.tca is not None
    assert result.tca.policy == "smart"


def test_deadline_leaves_nothing_live_and_reports_deadline(broker: FakeBroker) -> None:
    broker.partial = Decimal("0.1")
    result = run(plan(("CCC", Action.BUY, "4000")), broker, window_s=3.0)
    assert all(o.status.is_terminal for o in broker.orders.values())
    item = result.items[0]
    assert item.outcome is ItemOutcome.PARTIAL
    assert item.reason is Reason.DEADLINE


class RecordingProgress:
    """A ProgressSink that remembers what it was shown."""

    def __init__(self) -> None:
        self.started: list[tuple[int, str]] = []
        self.done: list[tuple[str, ItemOutcome]] = []

    def start(self, total_items: int, label: str = "items") -> None:
        self.started.append((total_items, label))

    def item_done(self, symbol: str, outcome: ItemOutcome) -> None:
        self.done.append((symbol, outcome))

    def close(self) -> None:
        return None


def test_progress_shows_every_item_once_with_its_final_outcome(broker: FakeBroker) -> None:
    sink = RecordingProgress()
    deadline = Deadline.from_remaining(broker.clock, 130, reserve_s=8.0)
    result = asyncio.run(
        execute_plan(
            MIXED,
            broker=broker,
            clock=broker.clock,
            deadline=deadline,
            config=MARKET,
            progress=sink,
        )
    )
    assert sink.started == [(4, "p-1")]
    assert sorted(sink.done) == sorted((i.symbol, i.outcome) for i in result.items)
    # sells settle (and are shown) before any buy is
    shown = [symbol for symbol, _ in sink.done]
    assert shown.index("CCC") > max(shown.index("AAA"), shown.index("BBB"))


@pytest.mark.parametrize("max_poll_s", [1.0, 4.0])
def test_resting_orders_back_off_polling_but_never_beyond_the_cap(
    broker: FakeBroker, max_poll_s: float
) -> None:
    """A limit that never fills: quiet ticks double the interval up to MAX_POLL_INTERVAL_S."""
    broker.fills = False
    config = ExecutionConfig(
        policy=ExecutionPolicy.SMART,
        smart=SmartSchedule(min_passive_spread_bps=Decimal(0)),  # rest passively, never take
        poll_interval_s=1.0,
        max_poll_interval_s=max_poll_s,
    )
    # A fractional quantity: re-pegs go by cancel + new (fractional orders cannot be replaced).
    result = run(plan(("CCC", Action.BUY, "2010")), broker, config, window_s=60.0)
    assert result.items[0].outcome is ItemOutcome.NOT_FILLED
    listings = broker.calls.count("list_orders")
    if max_poll_s == 1.0:
        assert listings >= 50  # one per second over the ~60 s window
    else:
        # Re-pegs reset the interval to 1 s, so the count lies between 60/4 and 60/1.
        assert 15 <= listings <= 35


@pytest.mark.parametrize("with_buy", [True, False])
def test_sell_phase_leaves_half_the_window_to_buys_and_all_of_it_when_none(
    broker: FakeBroker, with_buy: bool
) -> None:
    broker.fills = False  # sells rest until the phase ends
    items = [("BBB", Action.SELL, "-201")] + ([("CCC", Action.BUY, "1010")] if with_buy else [])
    config = ExecutionConfig(policy=ExecutionPolicy.SMART, sell_wait_max_s=1000.0)
    result = run(plan(*items), broker, config, window_s=200.0)
    assert result.budget is not None
    sells_s = float(result.budget.sells_s)
    if with_buy:
        assert 90 <= sells_s <= 110  # half of the ~200 s window, plus the wind-down
        assert float(result.budget.buys_s) >= 80
    else:
        assert sells_s >= 180


def test_summary_rounds_notionals_to_cents_while_the_result_keeps_them_exact(
    broker: FakeBroker,
) -> None:
    broker.quote("CCC", "199.983", "200.017")  # fills at a price that makes sub-cent notionals
    result = run(plan(("CCC", Action.BUY, "1010.5")), broker)
    summary = ExecutionSummary.of(result, "s3://b/k", attempt=1)
    assert result.filled_notional != summary.filled_notional
    assert summary.filled_notional == result.filled_notional.quantize(Decimal("0.01"))
    assert summary.planned_notional.as_tuple().exponent == -2
