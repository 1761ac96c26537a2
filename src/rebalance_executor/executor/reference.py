"""Reference prices (SPEC §4.4): a fresh valid quote's mid, else a checked trade, else none.

On the ``iex`` feed (a free Alpaca plan's real-time data) quotes are one venue's: often one-sided,
stale or far wider than the NBBO the orders fill against (alpaca-behaviour.md row 10). An item
whose quote says nothing about the market (none, a missing side, crossed, stale) falls back to
what Alpaca also serves, read only then (one latest-trades request, and one bars request for the
symbols whose trade is fresh, so a ``sip`` run with good quotes pays nothing extra):

- the latest trade, no older than ``QUOTE_MAX_AGE_S`` (never a stale price);
- inside the last 1-minute bar's [low, high] widened by :data:`TRADE_BAR_MARGIN_BPS` (an odd-lot,
  late-reported or erroneous print outside the recent range is refused, never guessed around);
- then the collar: every price the item's orders may carry is bounded by the reference
  ``x (1 ± MAX_COLLAR_BPS)`` (the working policies anchor their collar on it).

A fresh two-sided quote wider than ``MAX_SPREAD_BPS`` does not fall back: the spread limit stays
the user's control over trading in a wide market. No usable reference -> the item is not traded
(``NO_VALID_QUOTE``). docs/executor.md "Reference prices" gives the rules and their reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from rebalance_executor.domain.broker import Bar, BrokerError, BrokerPort, Quote, Trade
from rebalance_executor.domain.clock import Clock
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.result import ItemReference, ReferenceSource
from rebalance_executor.executor.sizing import quote_reference

logger = logging.getLogger(__name__)

BPS = Decimal(10_000)
# How far outside the last bar's [low, high] a trade may lie and still be believed: about three
# standard deviations of a liquid US stock's one-minute move (5-10 bps), so a trade printed just
# after the bar closed passes while a print 1 % off the recent range does not.
TRADE_BAR_MARGIN_BPS = Decimal(25)
# The bars read to check a trade: the last few minutes (the latest bar of them is the check).
RECENT_BAR_MINUTES = 3
# Preflight re-reads unusable quotes this often, for at most min(REFERENCE_WAIT_MAX_S,
# REFERENCE_WAIT_SHARE x the trading window) (docs/executor.md "Reference prices").
REFERENCE_RETRY_S = 5.0
REFERENCE_WAIT_MAX_S = 60.0
REFERENCE_WAIT_SHARE = 0.2


def trade_reference(
    trade: Trade | None,
    bars: Sequence[Bar],
    now: datetime,
    config: ExecutionConfig,
    quote_detail: str | None = None,
) -> ItemReference:
    """The trade as a reference when it is fresh and inside the last bar (+ margin), else NONE.

    ``quote_detail`` (why the quote was unusable) is kept in the reference's detail either way.
    """
    why_quote = f"{quote_detail}; " if quote_detail else ""
    if trade is None or trade.price <= 0:
        return _none(f"{why_quote}no latest trade")
    age = (now - trade.timestamp).total_seconds()
    if age > config.quote_max_age_s:
        return _none(f"{why_quote}latest trade is {age:.1f}s old (max {config.quote_max_age_s}s)")
    oldest = now - timedelta(minutes=RECENT_BAR_MINUTES)
    recent = [b for b in bars if b.timestamp >= oldest]
    if not recent:
        return _none(f"{why_quote}no 1-minute bar in the last {RECENT_BAR_MINUTES} min")
    bar = max(recent, key=lambda b: b.timestamp)
    margin = TRADE_BAR_MARGIN_BPS / BPS
    low, high = bar.low * (1 - margin), bar.high * (1 + margin)
    if not low <= trade.price <= high:
        return _none(
            f"{why_quote}latest trade {trade.price} outside the last bar's range "
            f"[{bar.low}, {bar.high}] +/- {TRADE_BAR_MARGIN_BPS}bps"
        )
    return ItemReference(
        source=ReferenceSource.TRADE, price=trade.price, at=trade.timestamp, detail=quote_detail
    )


async def read_references(
    broker: BrokerPort,
    quotes: Mapping[str, Quote],
    symbols: Iterable[str],
    *,
    now: datetime,
    config: ExecutionConfig,
) -> dict[str, ItemReference]:
    """Each symbol's reference: its quote's mid when usable; otherwise its latest trade checked
    against its recent bars (read only for such symbols). Never raises for the fallback reads:
    when they fail, those symbols get no reference (NONE naming the failure) and are not
    traded, while the others go on (the quote was unusable anyway)."""
    refs = {s: quote_reference(quotes.get(s), now, config) for s in sorted(set(symbols))}
    unusable = [
        s
        for s, ref in refs.items()
        if ref.price is None and _says_nothing(quotes.get(s), now, config)
    ]
    if not unusable:
        return refs
    try:
        trades = await broker.get_latest_trades(unusable)
        fresh = [s for s in unusable if _is_fresh(trades.get(s), now, config)]
        bars = await broker.get_recent_bars(fresh, RECENT_BAR_MINUTES) if fresh else {}
    except BrokerError as exc:
        logger.warning("reference_read_failed", extra={"symbols": unusable, "error": str(exc)})
        for symbol in unusable:
            refs[symbol] = _none(f"{refs[symbol].detail}; trade/bar read failed: {exc}")
        return refs
    for symbol in unusable:
        refs[symbol] = trade_reference(
            trades.get(symbol), bars.get(symbol, ()), now, config, refs[symbol].detail
        )
    logger.info(
        "references_from_trades",
        extra={
            "symbols": unusable,
            "trade_references": [s for s in unusable if refs[s].price is not None],
        },
    )
    return refs


def reference_wait_s(trading_window_s: float) -> float:
    """How long preflight (or the buy re-size) may wait for missing references."""
    return max(0.0, min(REFERENCE_WAIT_MAX_S, REFERENCE_WAIT_SHARE * trading_window_s))


async def await_references(
    broker: BrokerPort,
    quotes: Mapping[str, Quote],
    refs: Mapping[str, ItemReference],
    *,
    clock: Clock,
    config: ExecutionConfig,
    wait_s: float,
) -> tuple[dict[str, Quote], dict[str, ItemReference]]:
    """Re-read, every ``REFERENCE_RETRY_S`` for at most ``wait_s``, the symbols whose quote says
    nothing (none, one-sided, crossed, stale) and whose trade could not stand in: on the iex feed
    a quiet or one-sided spell lasts seconds to a minute, and an item priced a little late beats
    one not traded. A fresh two-sided quote that is too wide is not waited on (the spread limit
    is the user's). Raises BrokerError when a re-read fails."""
    quotes, refs = dict(quotes), dict(refs)
    waited = 0.0
    while waited + REFERENCE_RETRY_S <= wait_s:
        now = clock.now()
        waiting = [
            s
            for s, r in refs.items()
            if r.price is None and _says_nothing(quotes.get(s), now, config)
        ]
        if not waiting:
            break
        await clock.sleep(REFERENCE_RETRY_S)
        waited += REFERENCE_RETRY_S
        fresh = await broker.get_latest_quotes(waiting)
        quotes.update(fresh)
        refs.update(await read_references(broker, fresh, waiting, now=clock.now(), config=config))
        logger.info(
            "references_awaited",
            extra={
                "symbols": waiting,
                "waited_s": waited,
                "usable": [s for s in waiting if refs[s].price],
            },
        )
    return quotes, refs


def _says_nothing(quote: Quote | None, now: datetime, config: ExecutionConfig) -> bool:
    """True when the quote cannot tell where the market is (none, a missing side, crossed,
    stale): a trade may stand in. A fresh two-sided quote wider than ``MAX_SPREAD_BPS`` is a
    positive statement that the market is wide, and the spread limit is the user's control
    over that (the ``market`` policy has no collar): no fallback."""
    if quote is None or not quote.is_two_sided:
        return True
    return (now - quote.timestamp).total_seconds() > config.quote_max_age_s


def _is_fresh(trade: Trade | None, now: datetime, config: ExecutionConfig) -> bool:
    return trade is not None and (now - trade.timestamp).total_seconds() <= config.quote_max_age_s


def _none(detail: str) -> ItemReference:
    return ItemReference(source=ReferenceSource.NONE, detail=detail)
