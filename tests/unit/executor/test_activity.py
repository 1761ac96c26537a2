"""The loop reads recent bars once per phase for a policy that asks for them (SPEC §4.5: the
policy may read what Alpaca serves before trading; §8: requests are counted), and hands what
they show to the policy; a failed read leaves the policy without it, never stops the phase.

Driven through ``run_phase`` with the shared FakeBroker and its virtual clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from rebalance_executor.domain.broker import Bar, BrokerUnavailableError, Quote, Side
from rebalance_executor.domain.clock import Deadline
from rebalance_executor.domain.config import ExecutionConfig, SmartSchedule
from rebalance_executor.domain.plan import Action, PlanItem
from rebalance_executor.executor.context import RunContext
from rebalance_executor.executor.phases import run_phase
from rebalance_executor.executor.policies import (
    AnchorPolicy,
    Desired,
    MarketPolicy,
    OrderPolicy,
    PolicyInput,
    SmartPolicy,
)
from rebalance_executor.executor.policies.activity import Activity
from rebalance_executor.executor.state import ItemState
from rebalance_executor.executor.tracker import Tracker
from tests.fakes.broker import T0, FakeBroker, VirtualClock

D = Decimal
KEY = "0123456789abcdef"


@dataclass
class BarsBroker(FakeBroker):
    """Serves ``series[symbol]`` closes as consecutive 1-minute bars ending now and records
    every bars request's symbols and minutes; ``bars_fail`` makes the request fail."""

    series: dict[str, list[str]] = field(default_factory=dict)
    bar_requests: list[tuple[frozenset[str], int]] = field(default_factory=list)
    bars_fail: bool = False

    async def get_recent_bars(
        self, symbols: Iterable[str], minutes: int
    ) -> Mapping[str, Sequence[Bar]]:
        wanted = frozenset(symbols)
        self.calls.append("get_recent_bars")
        self.bar_requests.append((wanted, minutes))
        if self.bars_fail:
            raise BrokerUnavailableError("bars unavailable")
        now = self.clock.now()
        return {
            s: [
                Bar(
                    symbol=s,
                    timestamp=now - timedelta(minutes=len(closes) - k),
                    open=D(c),
                    high=D(c),
                    low=D(c),
                    close=D(c),
                    volume=D(100),
                )
                for k, c in enumerate(closes)
            ]
            for s, closes in self.series.items()
            if s in wanted
        }


@dataclass
class Spy:
    """Wraps a policy and records the activity each decision saw, by symbol."""

    inner: OrderPolicy
    seen: dict[str, list[Activity | None]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def uses_live_quotes(self) -> bool:
        return self.inner.uses_live_quotes

    def recent_bars_minutes(self, config: ExecutionConfig, quote: Quote | None) -> int:
        return self.inner.recent_bars_minutes(config, quote)

    def decide(self, state: PolicyInput, config: ExecutionConfig) -> Desired:
        self.seen.setdefault(state.symbol, []).append(state.activity)
        return self.inner.decide(state, config)

    def next_decision_s(self, state: PolicyInput, config: ExecutionConfig) -> float | None:
        return self.inner.next_decision_s(state, config)


def make_broker() -> BarsBroker:
    broker = BarsBroker(clock=VirtualClock(), cash=D(1_000_000))
    broker.fills = False  # passive limits rest: the phase runs its window
    for symbol in ("AAA", "BBB"):
        broker.quote(symbol, "99.00", "99.10")
    broker.series = {"AAA": ["99.00", "99.10", "99.20", "99.30"], "BBB": ["99.00", "99.05"]}
    return broker


def buy(index: int, symbol: str, broker: FakeBroker) -> ItemState:
    bid, ask = broker.quotes[symbol]
    quote = Quote(symbol=symbol, bid=bid, ask=ask, timestamp=broker.clock.now())
    return ItemState(
        index=index,
        item=PlanItem(symbol=symbol, action=Action.BUY, trade_amount=D(10) * ask),
        side=Side.BUY,
        fractionable=True,
        planned_qty=D(10),
        target_qty=D(10),
        ref_price=quote.mid,
        quote=quote,
    )


def work(broker: FakeBroker, policy: OrderPolicy, tracker: Tracker | None = None) -> Tracker:
    config = ExecutionConfig(smart=SmartSchedule(bars_minutes=15))
    clock = broker.clock
    deadline = Deadline.from_remaining(clock, 120.0, reserve_s=20.0)
    tracker = tracker or Tracker(broker, KEY, T0 - timedelta(seconds=5))
    ctx = RunContext(broker, clock, deadline, config, policy, KEY, tracker)
    states = [buy(0, "AAA", broker), buy(1, "BBB", broker)]
    asyncio.run(run_phase(states, ctx, clock.monotonic() + 30.0))
    return tracker


def test_smart_reads_the_bars_of_the_phase_once_and_every_decision_sees_them() -> None:
    broker = make_broker()
    spy = Spy(SmartPolicy())
    work(broker, spy)
    assert broker.bar_requests == [(frozenset({"AAA", "BBB"}), 15)]
    seen = spy.seen["AAA"]
    assert len(seen) >= 2  # decided more than once, always with the same reading
    first = seen[0]
    assert first is not None
    assert first.bars == 4
    assert float(first.trend_bps) > 0
    assert all(a == first for a in seen)
    # two bars say nothing: that item is worked without an activity
    assert set(spy.seen["BBB"]) == {None}


def test_a_later_phase_reads_only_symbols_not_read_yet() -> None:
    broker = make_broker()
    tracker = work(broker, SmartPolicy())
    work(broker, SmartPolicy(), tracker)
    assert broker.calls.count("get_recent_bars") == 1


def test_market_and_anchor_read_no_bars() -> None:
    for policy in (MarketPolicy(), AnchorPolicy()):
        broker = make_broker()
        work(broker, policy)
        assert "get_recent_bars" not in broker.calls


def test_a_failed_bars_read_leaves_the_policy_without_activity() -> None:
    broker = make_broker()
    broker.bars_fail = True
    spy = Spy(SmartPolicy())
    work(broker, spy)
    assert broker.calls.count("get_recent_bars") == 1  # not retried every tick
    assert set(spy.seen["AAA"]) == {None}
    assert broker.calls.count("submit_order") >= 2  # both items were still worked


def test_one_tick_items_are_not_read() -> None:
    """The order joins a one-tick touch whatever the bars say: no bars for it."""
    broker = make_broker()
    broker.quote("AAA", "99.00", "99.01")
    work(broker, SmartPolicy())
    assert broker.bar_requests == [(frozenset({"BBB"}), 15)]
    one_tick_only = make_broker()
    for symbol in ("AAA", "BBB"):
        one_tick_only.quote(symbol, "99.00", "99.01")
    work(one_tick_only, SmartPolicy())
    assert "get_recent_bars" not in one_tick_only.calls
