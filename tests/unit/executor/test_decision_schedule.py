"""The working loop's request economy (SPEC §4.6, §8): decisions when the policy schedules them,
quotes only for the items about to decide, fill-detection backoff, and the safety work that runs
on every tick whatever the schedule says.

Driven through ``run_phase`` with a scripted policy (a fake of our own OrderPolicy port), the
shared FakeBroker and its virtual clock: time moves only by the loop's sleeps, so the decision
times asserted below are exact.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from rebalance_executor.domain.broker import (
    BrokerOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    Quote,
    Side,
)
from rebalance_executor.domain.clock import Deadline
from rebalance_executor.domain.config import ExecutionConfig, ExecutionPolicy
from rebalance_executor.domain.plan import Action, PlanItem
from rebalance_executor.executor.context import RunContext
from rebalance_executor.executor.ids import client_order_id
from rebalance_executor.executor.phases import run_phase
from rebalance_executor.executor.policies import Desired, DesiredKind, PolicyInput
from rebalance_executor.executor.state import ItemState
from rebalance_executor.executor.tracker import Tracker
from tests.fakes.broker import T0, FakeBroker, VirtualClock

KEY = "0123456789abcdef"
CONFIG = ExecutionConfig(policy=ExecutionPolicy.SMART, poll_interval_s=1.0, max_poll_interval_s=8.0)


@dataclass
class ScriptedPolicy:
    """Wants a limit at ``price``; asks to decide again every ``every[symbol]`` seconds while its
    order is live (None: not until the order changes)."""

    every: Mapping[str, float | None]
    price: Decimal = Decimal("99.00")
    decided: list[tuple[str, float]] = field(default_factory=list)
    name: str = "scripted"
    uses_live_quotes: bool = True

    def recent_bars_minutes(self, config: ExecutionConfig, quote: Quote | None) -> int:
        return 0

    def decide(self, state: PolicyInput, config: ExecutionConfig) -> Desired:
        assert state.now is not None
        self.decided.append((state.symbol, (state.now - T0).total_seconds()))
        return Desired(DesiredKind.LIMIT, limit_price=self.price)

    def next_decision_s(self, state: PolicyInput, config: ExecutionConfig) -> float | None:
        return 0.0 if state.live_order is None else self.every[state.symbol]

    def times(self, symbol: str) -> list[float]:
        return [t for s, t in self.decided if s == symbol]


@dataclass
class RecordingBroker(FakeBroker):
    """FakeBroker that also records when it was listed and which symbols each quote call asked
    for; ``expire_at`` expires every live order at the first listing from that time on."""

    listed_at: list[float] = field(default_factory=list)
    quoted: list[tuple[float, frozenset[str]]] = field(default_factory=list)
    expire_at: float | None = None

    async def get_latest_quotes(self, symbols: Iterable[str]) -> Mapping[str, Quote]:
        wanted = frozenset(symbols)
        self.quoted.append((self.clock.monotonic(), wanted))
        return await super().get_latest_quotes(wanted)

    async def list_orders(
        self, *, after: datetime, symbols: Iterable[str] | None = None, open_only: bool = False
    ) -> Sequence[BrokerOrder]:
        now = self.clock.monotonic()
        self.listed_at.append(now)
        if self.expire_at is not None and now >= self.expire_at:
            self.expire_at = None
            for order in self._live():
                self.orders[order.id] = order.model_copy(update={"status": OrderStatus.EXPIRED})
        return await super().list_orders(after=after, symbols=symbols, open_only=open_only)


def make_broker(*, fills: bool = False, partial: str = "1") -> RecordingBroker:
    broker = RecordingBroker(clock=VirtualClock(), cash=Decimal(1_000_000))
    broker.fills = fills
    broker.partial = Decimal(partial)
    for symbol in ("AAA", "BBB"):
        broker.quote(symbol, "99.00", "99.02")
    return broker


def buy(index: int, symbol: str, broker: FakeBroker, qty: str = "10") -> ItemState:
    bid, ask = broker.quotes[symbol]
    quote = Quote(symbol=symbol, bid=bid, ask=ask, timestamp=broker.clock.now())
    return ItemState(
        index=index,
        item=PlanItem(symbol=symbol, action=Action.BUY, trade_amount=Decimal(qty) * ask),
        side=Side.BUY,
        fractionable=True,
        planned_qty=Decimal(qty),
        target_qty=Decimal(qty),
        ref_price=quote.mid,
        quote=quote,
    )


def work(
    broker: FakeBroker,
    policy: ScriptedPolicy,
    states: list[ItemState],
    window_s: float = 60.0,
    config: ExecutionConfig = CONFIG,
) -> bool:
    clock = broker.clock
    deadline = Deadline.from_remaining(clock, window_s + 60.0, reserve_s=20.0)  # not binding
    tracker = Tracker(broker, KEY, T0 - timedelta(seconds=5))
    ctx = RunContext(broker, clock, deadline, config, policy, KEY, tracker)
    return asyncio.run(run_phase(states, ctx, clock.monotonic() + window_s))


def test_decisions_happen_on_the_policy_schedule_each_after_one_fresh_quote() -> None:
    broker = make_broker()  # the limit rests: nothing fills
    policy = ScriptedPolicy(every={"AAA": 6.0})  # on the 3 s decision grid of a 60 s window
    clean = work(broker, policy, [buy(0, "AAA", broker)], window_s=60.0)
    assert clean  # the wind-down cancelled the resting order
    assert policy.times("AAA") == [0.0, 6.0, 12.0, 18.0, 24.0, 30.0, 36.0, 42.0, 48.0, 54.0]
    # the first decision uses the sizing quote; every later one exactly one quote call before
    assert [t for t, _ in broker.quoted] == policy.times("AAA")[1:]
    assert broker.calls.count("submit_order") == 1  # same price: nothing re-sent


def test_quotes_are_fetched_only_for_the_items_whose_decision_is_due() -> None:
    broker = make_broker()
    policy = ScriptedPolicy(every={"AAA": 5.0, "BBB": 20.0})
    work(broker, policy, [buy(0, "AAA", broker), buy(1, "BBB", broker)], window_s=100.0)
    assert policy.times("BBB") == [0.0, 20.0, 40.0, 60.0, 80.0]
    assert broker.quoted == [
        (t, frozenset({"AAA", "BBB"} if t % 20 == 0 else {"AAA"}))
        for t in [5.0 * k for k in range(1, 20)]
    ]


def test_decisions_are_rounded_up_to_a_shared_grid_so_items_share_quote_calls() -> None:
    broker = make_broker()
    policy = ScriptedPolicy(every={"AAA": 4.0, "BBB": 7.0})  # a 100 s window: a 5 s grid
    work(broker, policy, [buy(0, "AAA", broker), buy(1, "BBB", broker)], window_s=100.0)
    assert policy.times("AAA") == [5.0 * k for k in range(20)]  # 4 s rounds up to 5 s
    assert policy.times("BBB") == [10.0 * k for k in range(10)]  # 7 s rounds up to 10 s
    # one quotes call per grid point, shared by the items due there
    assert [t for t, _ in broker.quoted] == [5.0 * k for k in range(1, 20)]
    assert all(symbols == {"AAA", "BBB"} for t, symbols in broker.quoted if t % 10 == 0)


def test_polling_backs_off_to_the_cap_while_a_passive_limit_rests() -> None:
    broker = make_broker()
    policy = ScriptedPolicy(every={"AAA": None})  # nothing scheduled: fill detection only
    work(broker, policy, [buy(0, "AAA", broker)], window_s=60.0)
    assert policy.times("AAA") == [0.0]
    assert broker.quoted == []
    gaps = [b - a for a, b in zip([0.0, *broker.listed_at], broker.listed_at, strict=False)]
    assert gaps[:6] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert max(gaps) == 8.0


def test_an_order_that_ends_without_filling_is_decided_on_at_once() -> None:
    broker = make_broker()
    broker.expire_at = 10.0
    policy = ScriptedPolicy(every={"AAA": None})
    work(broker, policy, [buy(0, "AAA", broker)], window_s=30.0)
    # listings at 1, 3, 7, 15: the expiry is seen at 15 and the policy decides right then
    assert policy.times("AAA") == [0.0, 15.0]
    assert [t for t, _ in broker.quoted] == [15.0]
    assert broker.calls.count("submit_order") == 2


def test_partial_fills_alone_do_not_wake_the_policy() -> None:
    broker = make_broker(fills=True, partial="0.25")  # a quarter of the order per listing
    policy = ScriptedPolicy(every={"AAA": None})
    assert work(broker, policy, [buy(0, "AAA", broker)], window_s=60.0)
    assert broker.filled("AAA") == Decimal(10)
    assert policy.times("AAA") == [0.0]
    assert broker.quoted == []


def test_an_unknown_submit_is_resolved_on_the_next_tick_whatever_the_schedule() -> None:
    """Safety work is not the policy's to schedule: the lost submit is resolved by the very
    next listing (which finds the plan's orders by client order id) although the policy asked
    for no decision, and it is never sent twice."""
    broker = make_broker(fills=True)
    broker.lose_next_submits = 1
    policy = ScriptedPolicy(every={"AAA": None})
    assert work(broker, policy, [buy(0, "AAA", broker)], window_s=60.0)
    assert broker.calls[broker.calls.index("submit_order") + 1] == "list_orders"
    assert broker.calls.count("submit_order") == 1
    assert broker.filled("AAA") == Decimal(10)
    assert policy.times("AAA") == [0.0]


def test_over_commitment_is_cancelled_while_no_decision_is_scheduled() -> None:
    """Two live orders for one item (e.g. adopted from a crashed attempt) are cancelled on the
    first tick although the policy has nothing scheduled; once the cancels are final the
    policy decides again and one order works the remainder."""
    broker = make_broker()
    state = buy(0, "AAA", broker)
    for seq in (0, 1):
        request = OrderRequest(
            symbol="AAA",
            side=Side.BUY,
            qty=Decimal(10),
            type=OrderType.LIMIT,
            limit_price=Decimal("98.00"),
            client_order_id=client_order_id(KEY, 0, seq),
        )
        state.record(asyncio.run(broker.submit_order(request)))
    state.observe()  # as a listing showing them would: live orders not sized by this run
    state.next_seq, state.decide_at = 2, math.inf
    policy = ScriptedPolicy(every={"AAA": None})
    work(broker, policy, [state], window_s=30.0)
    assert broker.calls.index("cancel_order") < broker.calls.index("list_orders")
    assert broker.calls.count("cancel_order") >= 2
    assert policy.times("AAA") == [1.0]  # right after the listing that showed both cancelled
    assert [r.limit_price for r in broker.submits] == [Decimal("98.00")] * 2 + [policy.price]
