"""Everything one execution shares: ports, limits, the policy and the order tracker."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Final, Protocol

from rebalance_executor.domain.broker import BrokerPort
from rebalance_executor.domain.clock import Clock, Deadline
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.progress import NullProgress, ProgressSink
from rebalance_executor.executor.policies import OrderPolicy
from rebalance_executor.executor.results import item_outcome
from rebalance_executor.executor.state import ItemState
from rebalance_executor.executor.streaming import StreamFeed
from rebalance_executor.executor.tracker import Tracker

# Scheduled decisions land on a grid of this many seconds from the window's start (at most a
# twentieth of the window), so the items' decisions coincide and share one quotes call.
DECISION_GRID_S: Final = 5.0
_TICKS_PER_WINDOW: Final = 20


class KillSwitch(Protocol):
    async def is_engaged(self) -> bool:
        """True when trading must stop (SPEC §6). Checked at start, on every working tick and
        between phases, so an implementation must answer from a short cache (no I/O per call)."""
        ...


async def kill_engaged(config: ExecutionConfig, kill_switch: KillSwitch | None) -> bool:
    """The KILL_SWITCH setting or the kill-switch port says stop."""
    if config.kill_switch:
        return True
    return kill_switch is not None and await kill_switch.is_engaged()


@dataclass
class RunContext:
    broker: BrokerPort
    clock: Clock
    deadline: Deadline
    config: ExecutionConfig
    policy: OrderPolicy
    plan_key: str
    tracker: Tracker
    # (monotonic time, broker request count) samples for the peak-per-minute TCA figure
    request_samples: list[tuple[float, int]] = field(default_factory=list)
    progress: ProgressSink = field(default_factory=NullProgress)
    kill_switch: KillSwitch | None = None
    # the broker's streams, when followed (None: polling only)
    feed: StreamFeed | None = None

    async def kill_engaged(self) -> bool:
        return await kill_engaged(self.config, self.kill_switch)

    def news(self) -> asyncio.Event | None:
        """Set when a stream update arrives (None: not following streams)."""
        return None if self.feed is None else self.feed.port.news

    def sample_requests(self) -> None:
        self.request_samples.append((self.clock.monotonic(), self.broker.request_count()))

    def show_done(self, state: ItemState) -> None:
        """Show a worked item's completion on the progress sink, once."""
        if not state.reported:
            state.reported = True
            self.progress.item_done(state.symbol, item_outcome(state, state.filled_qty))


@dataclass(frozen=True)
class Window:
    """A phase's working window on the monotonic clock."""

    start: float
    stop: float

    def over(self, clock: Clock) -> bool:
        return clock.monotonic() >= self.stop

    def remaining(self, clock: Clock) -> float:
        return max(0.0, self.stop - clock.monotonic())

    def on_grid(self, t: float) -> float:
        """The first decision-grid point at or after ``t`` (see DECISION_GRID_S)."""
        step = min(DECISION_GRID_S, (self.stop - self.start) / _TICKS_PER_WINDOW)
        if step <= 0 or t <= self.start:
            return t
        return self.start + math.ceil((t - self.start) / step - 1e-9) * step

    def elapsed_fraction(self, clock: Clock) -> float:
        span = self.stop - self.start
        return 1.0 if span <= 0 else min(1.0, (clock.monotonic() - self.start) / span)
