"""The kill switch on every working tick (issue 15 item 8) and no order worked past the session
close (SPEC §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy, SmartSchedule
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ExecutionStatus, ItemOutcome, Reason
from rebalance_executor.executor.preflight import SESSION_CLOSE_MARGIN_S
from tests.fakes.broker import T0, FakeBroker
from tests.unit.executor.helpers import plan, run, stocked_broker

# Passive limits that rest (the fake's book is frozen), re-pegged by cancel + new (fractional).
RESTING = ExecutionConfig(
    policy=ExecutionPolicy.SMART, smart=SmartSchedule(min_passive_spread_bps=Decimal(0))
)


@dataclass
class FlipAfter:
    """A kill switch that engages on its ``after``-th check and remembers what the broker had
    been asked by then."""

    broker: FakeBroker
    after: int
    checks: int = 0
    calls_at_engage: int | None = None
    live_at_engage: list[str] = field(default_factory=list)

    async def is_engaged(self) -> bool:
        self.checks += 1
        if self.checks < self.after:
            return False
        if self.calls_at_engage is None:
            self.calls_at_engage = len(self.broker.calls)
            self.live_at_engage = [
                o.id for o in self.broker.orders.values() if not o.status.is_terminal
            ]
        return True


def test_kill_switch_engaged_mid_phase_stops_orders_and_cancels_within_one_tick() -> None:
    broker = stocked_broker()
    broker.fills = False
    kill = FlipAfter(broker, after=6)  # start, then ticks of the (single) buy phase
    result = run(plan(("AAA", Action.BUY, "2010.5")), broker, RESTING, kill=kill, window_s=300)
    assert kill.calls_at_engage is not None
    assert kill.live_at_engage  # an order was resting when the switch flipped
    after = broker.calls[kill.calls_at_engage :]
    assert "submit_order" not in after
    assert after[0] == "cancel_order"  # the very next broker call: no further tick first
    assert all(o.status.is_terminal for o in broker.orders.values())
    item = result.items[0]
    assert item.reason is Reason.KILL_SWITCH
    assert item.outcome is ItemOutcome.NOT_FILLED
    assert result.budget is not None
    assert float(result.budget.total_s) < 60  # stopped long before the 300 s window


def test_kill_switch_mid_sell_phase_blocks_the_buys() -> None:
    broker = stocked_broker()
    broker.fills = False
    kill = FlipAfter(broker, after=4)
    p = plan(("BBB", Action.SELL, "-1000.5"), ("AAA", Action.BUY, "1000"))
    result = run(p, broker, RESTING, kill=kill, window_s=300)
    assert all(s.symbol == "BBB" for s in broker.submits)
    assert [i.reason for i in result.items] == [Reason.KILL_SWITCH, Reason.KILL_SWITCH]
    assert all(o.status.is_terminal for o in broker.orders.values())


def test_working_window_ends_before_the_session_close() -> None:
    broker = stocked_broker()
    broker.fills = False
    close = T0 + timedelta(seconds=180)
    broker.next_close = close
    result = run(plan(("AAA", Action.BUY, "2010.5")), broker, RESTING, window_s=600)
    assert broker.submits
    stop = close - timedelta(seconds=SESSION_CLOSE_MARGIN_S)
    assert all(
        o.submitted_at is not None and o.submitted_at <= stop for o in broker.orders.values()
    )
    assert all(o.status.is_terminal for o in broker.orders.values())
    assert broker.clock.now() < close  # cancels and final reads done before the close
    assert result.budget is not None
    assert float(result.budget.trading_window_s) <= 180 - SESSION_CLOSE_MARGIN_S
    assert result.items[0].reason is Reason.DEADLINE


def test_market_closing_within_the_margin_is_skipped_without_orders() -> None:
    broker = stocked_broker()
    broker.next_close = T0 + timedelta(seconds=SESSION_CLOSE_MARGIN_S - 1)
    result = run(plan(("AAA", Action.BUY, "1000")), broker)
    assert result.status is ExecutionStatus.SKIPPED
    assert "session-close margin" in (result.reason or "")
    assert broker.submits == []
    assert result.items[0].reason is Reason.MARKET_CLOSED
