"""Following the broker's streams inside an invocation, with polling as the fallback (SPEC §4.6).

While the trading stream is healthy, fills and status changes come from ``trade_updates`` and
the working loop lists orders only to confirm what a stream update leaves ambiguous:
- an update naming a plan order no item knows (a lost submit answer, a bogus event);
- a reconnection (updates sent while the stream was down are lost: a gap);
- an update that arrives lagging (its broker timestamp older than ``lag_s``);
- an item that wrote to the broker (submit, cancel) and heard nothing about it for ``lag_s``
  (a silent stream);
- a verifying listing while orders rest, first after ``silence_s``, then twice as late each time
  the listing agrees with the stream (up to 60 s): ``trade_updates`` is quiet while limits rest,
  so a stream that died silently shows only this way; a listing that brings news the stream did
  not send makes the loop poll until the stream sends an update again.
While it is down (not connected, or never connected) the loop polls as without streams.
Quotes come from the quote stream; a quote stream that is down or sent nothing at all for
``silence_s``, and a symbol it has not quoted since it opened, are polled over REST when a
decision needs them.
Every fallback is logged (``stream_fallback``) and counted (:class:`StreamCounts`, in the
result). The broker's REST state stays the source of truth: a run that followed streams ends
with a reconciliation listing (``Tracker.reconcile``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

from rebalance_executor.domain.clock import Clock
from rebalance_executor.domain.result import StreamReport
from rebalance_executor.domain.streams import StreamPort
from rebalance_executor.executor.state import ItemState
from rebalance_executor.executor.tracker import Tracker

logger = logging.getLogger(__name__)

# Longest interval between verifying listings while orders rest and the stream agrees.
_MAX_VERIFY_S = 60.0
# Float slack when a sleep of the computed length lands a hair before the deadline.
_EPSILON_S = 1e-6


@dataclass
class StreamCounts:
    """The mutable tally behind :class:`StreamReport` (same fields)."""

    updates: int = 0
    unknown_orders: int = 0
    gaps: int = 0
    lagging: int = 0
    silent: int = 0
    down_ticks: int = 0
    confirm_listings: int = 0
    quote_updates: int = 0
    quote_fallbacks: int = 0
    verify_listings: int = 0


@dataclass
class StreamFeed:
    """The executor's side of :class:`StreamPort`: applies updates and quotes to the tracker
    and says when a listing or a quote poll is still needed."""

    port: StreamPort
    clock: Clock
    lag_s: float
    silence_s: float
    counts: StreamCounts = field(default_factory=StreamCounts)
    # symbol -> monotonic time its last quote arrived (stream, or a REST poll standing in)
    _quote_seen: dict[str, float] = field(default_factory=dict)
    _connects_seen: int | None = None
    _down: bool = False
    # a verifying listing found news the stream had not sent (cleared by its next update)
    _missed: bool = False
    # verifying listings while orders rest: the last one (or any listing) and the interval
    _verified_at: float = field(init=False)
    _verify_s: float = field(init=False)

    def __post_init__(self) -> None:
        self._verified_at = self.clock.monotonic()
        self._verify_s = self.silence_s

    def trading_ok(self) -> bool:
        """True while the trading stream is connected (once at least) and has not been caught
        missing news since its last update."""
        health = self.port.health()
        return health.trading_connected and health.trading_connects > 0 and not self._missed

    def apply(self, tracker: Tracker) -> list[str]:
        """Apply every update and quote received; return why a confirming listing is needed
        (empty: the stream's view stands)."""
        self.port.news.clear()
        why: list[str] = []
        now = self.clock.monotonic()
        connects = self.port.health().trading_connects
        if self._connects_seen is not None and connects > self._connects_seen:
            self.counts.gaps += 1
            why.append("reconnected")
        if connects > 0:
            self._connects_seen = connects
        updates = self.port.drain_updates()
        if updates:
            self._missed = False  # it speaks again
            tally = tracker.absorb_updates([u.order for u in updates], now)
            self.counts.updates += len(updates)
            self.counts.unknown_orders += tally.unknown
            if tally.unknown:
                why.append("unknown order")
            worst = max((u.received_at - u.at).total_seconds() for u in updates)
            if worst > self.lag_s:
                self.counts.lagging += 1
                why.append("lagging")
        self._take_quotes(tracker, now)
        return why

    def _take_quotes(self, tracker: Tracker, now: float) -> None:
        for symbol, quote in self.port.drain_quotes().items():
            self.counts.quote_updates += 1
            self._quote_seen[symbol] = now
            known = tracker.quotes.get(symbol)
            if known is None or quote.timestamp >= known.timestamp:
                tracker.quotes[symbol] = quote

    def silent_items(
        self, states: Iterable[ItemState], awaits: Callable[[ItemState], bool]
    ) -> list[ItemState]:
        """Items awaiting news (``awaits``: a submit or cancel to settle, a marketable order)
        that heard nothing of their orders for ``lag_s`` since their last write."""
        now = self.clock.monotonic()
        return [s for s in states if awaits(s) and _last_news(s) + self.lag_s - now <= _EPSILON_S]

    def next_check_s(
        self, states: Iterable[ItemState], awaits: Callable[[ItemState], bool]
    ) -> float | None:
        """Seconds until an item awaiting news becomes silent or the next verifying listing is
        due (None: nothing awaits news and nothing is live)."""
        now = self.clock.monotonic()
        due = [_last_news(s) + self.lag_s - now for s in states if awaits(s)]
        if any(s.live_orders for s in states):
            due.append(self._verify_in_s())
        return max(0.0, min(due)) if due else None

    def stale_quote_symbols(self, symbols: Iterable[str]) -> set[str]:
        """Of ``symbols``, those the quote stream cannot vouch for: all of them while it is
        down or has sent nothing for ``silence_s`` (a connection-wide silence); otherwise those
        with no quote since the stream opened (Alpaca sends no snapshot on subscribe, and a
        quiet symbol's last quote is still its latest: REST would serve the same)."""
        wanted = set(symbols)
        health = self.port.health()
        last = health.last_quote_at
        now = self.clock.monotonic()
        if not health.quotes_connected or last is None or now - last > self.silence_s:
            return wanted
        return {s for s in wanted if s not in self._quote_seen}

    async def follow(
        self, tracker: Tracker, states: Sequence[ItemState], awaits: Callable[[ItemState], bool]
    ) -> None:
        """One tick of fill detection: apply what the streams brought, then list the orders of
        ``states`` when the trading stream is down or something needs confirming."""
        why = self.apply(tracker)
        if not self.trading_ok():
            self.counts.down_ticks += 1
            self._note_down(True)
            await self._list(tracker, states)
            return
        self._note_down(False)
        silent = self.silent_items(states, awaits)
        if silent:
            self.counts.silent += 1
            why.append("silent")
        if why:
            self.counts.confirm_listings += 1
            logger.warning(
                "stream_fallback",
                extra={"why": why, "silent_symbols": sorted(s.symbol for s in silent)[:20]},
            )
            await self._list(tracker, states)
        elif any(s.live_orders for s in states) and self._verify_due():
            await self._verify(tracker, states)

    def _verify_in_s(self) -> float:
        return self._verified_at + self._verify_s - self.clock.monotonic()

    def _verify_due(self) -> bool:
        # the same sum as next_check_s: a sleep of exactly that long must find it due
        return self._verify_in_s() <= _EPSILON_S

    async def _verify(self, tracker: Tracker, states: Sequence[ItemState]) -> None:
        """A listing that checks the stream while orders rest: ``trade_updates`` is quiet then,
        so a stream that died silently shows only here. When the listing brings news the stream
        did not (a fill, a status change), the stream is distrusted (polled around) until it
        sends an update again; otherwise the next check comes twice as late (up to
        ``_MAX_VERIFY_S``)."""
        before = {s.index: (s.filled_qty, s.live_ids) for s in states}
        self.counts.verify_listings += 1
        await self._list(tracker, states)
        if all((s.filled_qty, s.live_ids) == before[s.index] for s in states):
            self._verify_s = min(self._verify_s * 2, _MAX_VERIFY_S)
            return
        self.counts.silent += 1
        self._missed = True
        self._verify_s = self.silence_s
        logger.warning("stream_missed_news", extra={"symbols": [s.symbol for s in states][:20]})

    async def _list(self, tracker: Tracker, states: Sequence[ItemState]) -> None:
        await tracker.poll_orders(states)
        now = self._verified_at = self.clock.monotonic()
        for state in states:
            state.last_heard_at = now

    def _note_down(self, down: bool) -> None:
        """Log each change of the trading stream between up and down (not every tick)."""
        if down != self._down:
            self._down = down
            log = logger.warning if down else logger.info
            log("trading_stream_down" if down else "trading_stream_up")

    def quotes_to_poll(self, symbols: Iterable[str]) -> set[str]:
        """Of ``symbols`` (decisions due now), those a REST quote poll must serve (counted;
        the caller polls them, so they count as seen)."""
        stale = self.stale_quote_symbols(symbols)
        if stale:
            self.counts.quote_fallbacks += 1
            now = self.clock.monotonic()
            self._quote_seen.update(dict.fromkeys(stale, now))
        return stale

    def report(self) -> StreamReport:
        return StreamReport(**asdict(self.counts))


def _last_news(state: ItemState) -> float:
    """The item's last write or news, whichever is later (-inf: neither yet)."""
    times = [t for t in (state.last_write_at, state.last_heard_at) if t is not None]
    return max(times, default=-math.inf)
