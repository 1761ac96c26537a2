"""Resting limits against the tape: queue position, flow fills and path fills (README "Fill
model"). The engine calls :func:`rest_side` per symbol and side, orders in price-time priority.

Queue position (``SimOrder.queue_ahead``, shares ahead of the order at its price): set when the
order first matches — the displayed size when it joins the touch, nothing when it improves it,
one mean level (``depth``) when it rests behind the touch. Lit opposite takers consume it before
the order; cancellations of the displayed queue take it down by the share falling in front of
the order, ``front^3 / (front^3 + back^3)`` (a power-law probabilistic queue in the manner of
hftbacktest's ``ProbQueueModel``; orders near the front cancel less). It never exceeds the
displayed size while the order is at the touch.

Every random number here is a pure function of (seed, symbol, step) (``feeds.draw``), so two
policies resting the same order in the same step see the same path and the same takers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from alpaca_sim import fills as fm
from alpaca_sim.feeds import draw, stream
from alpaca_sim.market import LIT_SHARE, StepFlow, SymbolMarket
from alpaca_sim.orders import SimOrder

if TYPE_CHECKING:  # the engine imports this module; it is only a parameter type here
    from alpaca_sim.engine import SimEngine

# Each displayed share cancels at this rate (the refill replaces it): cancels far outnumber
# trades in US equities (SEC MIDAS: cancel-to-trade ratios in the tens).
QUEUE_CANCEL_S = 20.0
QUEUE_POWER = 3


@dataclass(frozen=True)
class Streams:
    """Hash streams of one symbol: the bridge's low and high, and takers reaching each side."""

    low: int
    high: int
    reach_buy: int
    reach_sell: int

    @classmethod
    def of(cls, seed: int, symbol: str) -> Streams:
        return cls(
            stream(seed, symbol, "bridge-low"),
            stream(seed, symbol, "bridge-high"),
            stream(seed, symbol, "reach-buy"),
            stream(seed, symbol, "reach-sell"),
        )


def _start_queue(order: SimOrder, market: SymbolMarket, flow: StepFlow | None) -> float:
    quote = flow.before if flow is not None else market.quote
    assert order.limit_price is not None  # only limits rest
    place = fm.queue_place(order.side, order.limit_price, quote)
    if place == "touch":
        return float(quote.bid_size if order.side == "buy" else quote.ask_size)
    return 0.0 if place == "better" else float(market.spec.depth)


def rest_side(
    engine: SimEngine, side: str, book: list[SimOrder], flow: StepFlow | None, at: datetime
) -> None:
    """Match one side's resting limits (best first). ``flow`` is None at an event (an
    acknowledgement, a forced quote) or in a frozen market: only a crossing quote fills then."""
    symbol = book[0].symbol
    market = engine.markets[symbol]
    streams = engine.streams[symbol]
    extreme = None if flow is None else _path_extreme(side, flow, market, streams, engine)
    reach = 0.0 if flow is None else _reached(side, flow, streams)
    for order in book:
        if order.limit_price is None or not order.is_fillable:
            continue
        if order.queue_ahead is None:
            order.queue_ahead = _start_queue(order, market, flow)
        limit = order.limit_price
        if flow is None:
            _cross_fill(engine, order, market, at)
            continue
        if fm.crossed(side, limit, market.quote) or (
            extreme is not None and fm.path_reaches(side, limit, flow.before, extreme)
        ):
            engine.fill_resting(order, order.remaining_qty or Decimal(0), fm.PATH, at)
        else:
            reach -= _flow_fill(engine, order, flow, reach, at)
            _cancel_ahead(order, market)


def _cross_fill(engine: SimEngine, order: SimOrder, market: SymbolMarket, at: datetime) -> None:
    """At an event a quote crossing the limit fills it up to the opposite displayed size not
    yet taken at this instant (the step's path rule fills in full)."""
    assert order.limit_price is not None
    if not fm.crossed(order.side, order.limit_price, market.quote):
        return
    key = (order.symbol, order.side)
    displayed = market.quote.ask_size if order.side == "buy" else market.quote.bid_size
    free = displayed - engine.consumed.get(key, Decimal(0))
    if free > 0:
        before = order.filled_qty
        engine.fill_resting(order, free, fm.PATH, at)
        engine.consumed[key] = engine.consumed.get(key, Decimal(0)) + order.filled_qty - before


def _path_extreme(
    side: str, flow: StepFlow, market: SymbolMarket, streams: Streams, engine: SimEngine
) -> float:
    """The step's latent low (for buys) or high (for sells) as our orders see it: the bridge's
    extreme moved by our own impact overlay."""
    low = side == "buy"
    u = draw(streams.low if low else streams.high, flow.step)
    extreme = fm.bridge_extreme(flow.start, flow.end, market.step_variance, u, low=low)
    return extreme * (1.0 + engine.impact[market.symbol].at(engine.seconds_at(flow.at)))


def _reached(side: str, flow: StepFlow, streams: Streams) -> float:
    """Volume of the opposite takers of the step that reach this side's lit resting orders."""
    if side == "buy":
        u = draw(streams.reach_buy, flow.step)
        return fm.reached_volume(flow.sell_count, flow.sell_volume, LIT_SHARE, u)
    u = draw(streams.reach_sell, flow.step)
    return fm.reached_volume(flow.buy_count, flow.buy_volume, LIT_SHARE, u)


def _flow_fill(
    engine: SimEngine, order: SimOrder, flow: StepFlow, reach: float, at: datetime
) -> float:
    """Fill from the takers that reached the order's price; returns the volume used."""
    assert order.limit_price is not None
    assert order.queue_ahead is not None
    place = fm.queue_place(order.side, order.limit_price, flow.before)
    if place is None or reach <= 0:
        return 0.0
    ahead = order.queue_ahead if place == "touch" else 0.0
    through = min(ahead, reach)
    order.queue_ahead = ahead - through
    room = math.floor(reach - through)
    if room <= 0:
        return through
    remaining = order.remaining_qty or Decimal(0)
    qty = min(remaining, Decimal(room))
    if qty > 0:
        engine.fill_resting(order, qty, fm.FLOW, at)
    return through + float(qty)


def _cancel_ahead(order: SimOrder, market: SymbolMarket) -> None:
    """Cancellations in front of an order at the touch; the queue ahead never exceeds the
    displayed size there."""
    assert order.limit_price is not None
    assert order.queue_ahead is not None
    at_touch = fm.queue_place(order.side, order.limit_price, market.quote) == "touch"
    if not order.is_fillable or not at_touch:
        return
    displayed = market.bid_queue if order.side == "buy" else market.ask_queue
    front = min(order.queue_ahead, displayed)
    back = max(0.0, displayed - front)
    cancels = displayed * (1.0 - math.exp(-market.step_s / QUEUE_CANCEL_S))
    weight = front**QUEUE_POWER + back**QUEUE_POWER
    in_front = cancels * front**QUEUE_POWER / weight if weight > 0 else 0.0
    order.queue_ahead = max(0.0, front - in_front)
