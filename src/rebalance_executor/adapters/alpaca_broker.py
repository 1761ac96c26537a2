"""BrokerPort over alpaca-py (SPEC §4.6).

alpaca-py is synchronous: every call runs in a worker thread via ``asyncio.to_thread``. Its own
retry loop (which sleeps in the calling thread, outside any deadline) is switched off; this adapter
retries 429/5xx/connection errors itself with exponential backoff, inside the deadline, behind a
client-side token bucket. Every HTTP attempt is counted (``request_count``).

Submits are exactly-once: a POST whose outcome is unknown (timeout, connection drop, 5xx) is looked
up by its client order id before it is ever re-sent, and a re-send carries the same client order
id, so the broker's uniqueness rule (422 / 40010001) turns a duplicate into an adoption.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.data.enums import DataFeed
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetClass, AssetStatus, QueryOrderStatus
from alpaca.trading.models import Asset as AlpacaAsset
from alpaca.trading.models import Clock as AlpacaClock
from alpaca.trading.models import Position as AlpacaPosition
from alpaca.trading.models import TradeAccount
from alpaca.trading.requests import GetAssetsRequest, GetOrdersRequest

from rebalance_executor.adapters import alpaca_mapping as mapping
from rebalance_executor.adapters.alpaca_http import tune_client
from rebalance_executor.adapters.alpaca_market_data import MarketDataReader
from rebalance_executor.adapters.alpaca_market_data import as_model as _as
from rebalance_executor.adapters.rate_limiter import TokenBucket
from rebalance_executor.domain.broker import (
    AccountSnapshot,
    AmbiguousSubmitError,
    Asset,
    Bar,
    BrokerOrder,
    BrokerRequestError,
    BrokerUnavailableError,
    DuplicateClientOrderIdError,
    MarketClock,
    OrderNotFoundError,
    OrderRequest,
    Position,
    Quote,
    Trade,
)
from rebalance_executor.domain.clock import Clock, Deadline, SystemClock

logger = logging.getLogger(__name__)

M = TypeVar("M")


def _as_list(value: object, cls: type[M]) -> list[M]:
    if not isinstance(value, list):
        raise TypeError(f"unexpected alpaca-py response type {type(value).__name__}")
    return [_as(v, cls) for v in value]


_PAGE_LIMIT = 500
# Orders are read as JSON and mapped here, not parsed by alpaca-py, whose Order model refuses a
# status it does not know (a new Alpaca status must read as live, not crash the executor).
_BY_CLIENT_ID = "/orders:by_client_order_id"
# Above this many symbols preflight reads ONE listing of active US equities instead of one
# request per symbol. The trade-off: Alpaca's listing holds ~12k assets (a few MB of JSON, about
# a second to fetch and parse) where a per-symbol read is ~1 KB; 3 per-symbol requests are about
# what the rate budget (SPEC §4.6, <= 4 requests per order) tolerates for a small plan, and
# beyond that one large read beats N round trips against the 200/min limit.
_ASSET_BULK_THRESHOLD = 3
_BACKOFF_BASE_S = 0.25
_BACKOFF_CAP_S = 4.0


class _TransientError(Exception):
    """One attempt failed in a way worth retrying; ``ambiguous`` when a write may have landed."""

    def __init__(self, detail: str, *, ambiguous: bool) -> None:
        super().__init__(detail)
        self.ambiguous = ambiguous


class AlpacaBroker:
    """:class:`~rebalance_executor.domain.broker.BrokerPort` backed by alpaca-py."""

    def __init__(
        self,
        trading: TradingClient,
        data: StockHistoricalDataClient,
        *,
        data_feed: str,
        limiter: TokenBucket,
        clock: Clock,
        deadline: Deadline | None,
        max_attempts: int = 8,
    ) -> None:
        self._trading = trading
        self._market_data = MarketDataReader(data, DataFeed(data_feed), self._call, clock)
        self._limiter = limiter
        self._clock = clock
        self._deadline = deadline
        self._max_attempts = max_attempts
        self._requests = 0
        self._in_flight = 0
        self._rng = random.Random()

    @classmethod
    def create(
        cls,
        *,
        api_key: str,
        secret_key: str,
        paper: bool,
        base_url: str | None,
        data_feed: str = "iex",
        timeout_s: float = 5.0,
        max_requests_per_min: int = 180,
        clock: Clock | None = None,
        deadline: Deadline | None = None,
    ) -> AlpacaBroker:
        """Build both alpaca-py clients (``base_url`` overrides trading and data URLs alike)."""
        trading = TradingClient(
            api_key=api_key, secret_key=secret_key, paper=paper, url_override=base_url
        )
        data = StockHistoricalDataClient(
            api_key=api_key, secret_key=secret_key, url_override=base_url
        )
        clock = clock or SystemClock()
        broker = cls(
            trading,
            data,
            data_feed=data_feed,
            limiter=TokenBucket(clock, max_requests_per_min),
            clock=clock,
            deadline=deadline,
        )
        tune_client(trading, timeout_s, broker.remaining_budget_s)
        tune_client(data, timeout_s, broker.remaining_budget_s)
        return broker

    def bind_deadline(self, deadline: Deadline | None) -> None:
        """Bound retries by this deadline from now on (the Lambda knows it after creation)."""
        self._deadline = deadline

    def remaining_budget_s(self) -> float:
        """Seconds to the bound deadline's hard stop (infinite when unbound)."""
        return self._deadline.remaining_total_s() if self._deadline else float("inf")

    def request_count(self) -> int:
        return self._requests

    @property
    def in_flight(self) -> int:
        """HTTP calls sent (rate-limit token taken) and not yet returned."""
        return self._in_flight

    # --- transport ------------------------------------------------------------------------------

    async def _attempt(self, fn: Callable[..., object], *args: Any, write: bool = False) -> object:
        """One rate-limited HTTP call. Raises _TransientError (retry-worthy) or a BrokerError."""
        await self._limiter.acquire()
        self._requests += 1
        self._in_flight += 1
        try:
            return await asyncio.to_thread(fn, *args)
        except APIError as exc:
            status = exc.status_code
            if not mapping.is_transient_status(status):
                raise mapping.map_api_error(exc) from exc
            # A 429 was refused before processing; a 5xx on a write may have been applied.
            raise _TransientError(f"HTTP {status}", ambiguous=write and status != 429) from exc
        except requests.RequestException as exc:
            raise _TransientError(type(exc).__name__, ambiguous=write) from exc
        finally:
            self._in_flight -= 1

    async def _backoff(self, attempt: int, op: str, detail: str) -> None:
        """Sleep before retry ``attempt``; raises BrokerUnavailableError when out of budget."""
        delay = min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2 ** (attempt - 1))
        delay *= 0.5 + self._rng.random() / 2
        budget = self.remaining_budget_s()
        if attempt >= self._max_attempts or delay >= budget:
            raise BrokerUnavailableError(f"{op}: {detail} after {attempt} attempts")
        logger.warning(
            "broker_retry", extra={"op": op, "attempt": attempt, "detail": detail, "delay_s": delay}
        )
        await self._clock.sleep(delay)

    async def _call(self, op: str, fn: Callable[..., object], *args: Any) -> object:
        """An idempotent call, retried on transient failures inside the deadline."""
        attempt = 0
        while True:
            try:
                return await self._attempt(fn, *args)
            except _TransientError as exc:
                attempt += 1
                await self._backoff(attempt, op, str(exc))

    # --- reads ----------------------------------------------------------------------------------

    async def get_account(self) -> AccountSnapshot:
        return mapping.to_account(
            _as(await self._call("get_account", self._trading.get_account), TradeAccount)
        )

    async def get_clock(self) -> MarketClock:
        return mapping.to_clock(
            _as(await self._call("get_clock", self._trading.get_clock), AlpacaClock)
        )

    async def get_assets(self, symbols: Iterable[str]) -> Mapping[str, Asset]:
        """Assets by symbol; unknown symbols are absent. Up to ``_ASSET_BULK_THRESHOLD`` symbols
        are read one by one, more through one listing of active US equities (a symbol missing
        from it, e.g. delisted, is absent as an unknown one is). Raises BrokerError subclasses
        on broker failures."""
        wanted = sorted(set(symbols))
        if len(wanted) > _ASSET_BULK_THRESHOLD:
            request = GetAssetsRequest(status=AssetStatus.ACTIVE, asset_class=AssetClass.US_EQUITY)
            raw = await self._call("get_all_assets", self._trading.get_all_assets, request)
            wanted_set = set(wanted)
            return {
                a.symbol: mapping.to_asset(a)
                for a in _as_list(raw, AlpacaAsset)
                if a.symbol in wanted_set
            }
        results = await asyncio.gather(*(self._get_asset(s) for s in wanted))
        return {a.symbol: a for a in results if a is not None}

    async def _get_asset(self, symbol: str) -> Asset | None:
        try:
            raw = await self._call("get_asset", self._trading.get_asset, symbol)
            return mapping.to_asset(_as(raw, AlpacaAsset))
        except BrokerRequestError as exc:
            if exc.status in (404, 422):
                return None
            raise

    async def get_positions(self) -> Mapping[str, Position]:
        raw = await self._call("get_all_positions", self._trading.get_all_positions)
        positions = _as_list(raw, AlpacaPosition)
        return {p.symbol: mapping.to_position(p) for p in positions}

    async def get_latest_quotes(self, symbols: Iterable[str]) -> Mapping[str, Quote]:
        return await self._market_data.latest_quotes(symbols)

    async def get_latest_trades(self, symbols: Iterable[str]) -> Mapping[str, Trade]:
        return await self._market_data.latest_trades(symbols)

    async def get_recent_bars(
        self, symbols: Iterable[str], minutes: int
    ) -> Mapping[str, Sequence[Bar]]:
        return await self._market_data.recent_bars(symbols, minutes)

    async def list_orders(
        self, *, after: datetime, symbols: Iterable[str] | None = None, open_only: bool = False
    ) -> Sequence[BrokerOrder]:
        """Every order submitted after ``after``, oldest first, following pages of 500.

        Pages overlap by one microsecond so orders sharing a boundary timestamp are not lost;
        duplicates are dropped by id.
        """
        symbol_list = sorted(set(symbols)) if symbols is not None else None
        seen: dict[str, BrokerOrder] = {}
        cursor = after
        while True:
            request = GetOrdersRequest(
                status=QueryOrderStatus.OPEN if open_only else QueryOrderStatus.ALL,
                limit=_PAGE_LIMIT,
                after=cursor,
                direction=Sort.ASC,
                symbols=symbol_list or None,
            )
            params = request.to_request_fields()
            if symbol_list:
                params["symbols"] = ",".join(symbol_list)
            raw = await self._call("list_orders", self._trading.get, "/orders", params)
            page = [mapping.order_from_json(_as(o, dict)) for o in _as_list(raw, object)]
            fresh = [o for o in page if o.id not in seen]
            seen.update((o.id, o) for o in fresh)
            if len(page) < _PAGE_LIMIT or not fresh:
                break
            cursor = max(o.submitted_at or cursor for o in page) - timedelta(microseconds=1)
        return sorted(seen.values(), key=lambda o: (o.submitted_at or after, o.id))

    async def get_order(self, order_id: str) -> BrokerOrder:
        raw = await self._call("get_order", self._trading.get, f"/orders/{order_id}")
        return mapping.order_from_json(_as(raw, dict))

    async def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        params = {"client_order_id": client_order_id}
        try:
            raw = await self._call(
                "get_order_by_client_id", self._trading.get, _BY_CLIENT_ID, params
            )
        except OrderNotFoundError:
            return None
        return mapping.order_from_json(_as(raw, dict))

    # --- writes ---------------------------------------------------------------------------------

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        """Submit exactly once.

        Raises DuplicateClientOrderIdError only if the duplicate cannot then be read back,
        AmbiguousSubmitError when the outcome stays unknown within the retry budget, and the
        typed BrokerRequestError subclasses for refusals (e.g. InsufficientBuyingPowerError).
        """
        fields = mapping.to_alpaca_request(request).to_request_fields()
        attempt = 0
        while True:
            try:
                raw = await self._attempt(self._trading.post, "/orders", fields, write=True)
                return mapping.order_from_json(_as(raw, dict))
            except DuplicateClientOrderIdError:
                found = await self.get_order_by_client_id(request.client_order_id)
                if found is None:
                    raise
                logger.info("order_adopted", extra={"client_order_id": request.client_order_id})
                return found
            except _TransientError as exc:
                attempt += 1
                if exc.ambiguous:
                    found = await self._lookup_after_ambiguous(request.client_order_id)
                    if found is not None:
                        return found
                try:
                    await self._backoff(attempt, "submit_order", str(exc))
                except BrokerUnavailableError as unavailable:
                    if exc.ambiguous:
                        raise AmbiguousSubmitError(str(unavailable)) from unavailable
                    raise

    async def _lookup_after_ambiguous(self, client_order_id: str) -> BrokerOrder | None:
        try:
            found = await self.get_order_by_client_id(client_order_id)
        except BrokerUnavailableError as exc:
            raise AmbiguousSubmitError(f"lookup of {client_order_id} failed") from exc
        if found is not None:
            logger.info("ambiguous_submit_resolved", extra={"client_order_id": client_order_id})
        return found

    async def cancel_order(self, order_id: str) -> None:
        """Request cancellation. 422 (already terminal / pending) is not an error; 404 raises
        OrderNotFoundError."""
        try:
            await self._call("cancel_order", self._trading.cancel_order_by_id, order_id)
        except BrokerRequestError as exc:
            if exc.status != 422:
                raise
