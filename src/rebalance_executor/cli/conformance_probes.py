"""The fixed, safe probes of ``rebalance-executor conformance`` (alpaca-behaviour.md rows).

Each probe talks raw HTTP to an Alpaca-compatible endpoint (the real paper API or the
simulator), records exactly what it saw (status, Alpaca code and message, the fields that
matter) and compares it with what Alpaca documents or is reported to do. Orders are one share,
limit, DAY, priced at half the bid (never marketable), named ``<run prefix>-<probe>`` and all
cancelled at the end. Probes that could fill a share run only with ``allow_fills``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import requests

PENDING = frozenset({"pending_new", "accepted"})
POLL_S = 0.05
WAIT_S = 5.0


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and what came back."""

    method: str
    path: str
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def code(self) -> int | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def message(self) -> str | None:
        return self.body.get("message") if isinstance(self.body, dict) else None

    def brief(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message}


class AlpacaHttp:
    """Trading and market-data calls with the account's keys; never raises on HTTP errors."""

    def __init__(self, trading_url: str, data_url: str, key: str, secret: str) -> None:
        self._trading = trading_url.rstrip("/")
        self._data = data_url.rstrip("/")
        self._session = requests.Session()
        self._session.headers.update({"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret})

    def trading(self, method: str, path: str, **kwargs: Any) -> Exchange:
        return self._call(method, self._trading, path, **kwargs)

    def data(self, path: str, params: dict[str, str]) -> Exchange:
        return self._call("GET", self._data, path, params=params)

    def _call(self, method: str, base: str, path: str, **kwargs: Any) -> Exchange:
        response = self._session.request(method, base + path, timeout=10, **kwargs)
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = response.text
        headers = {k: v for k, v in response.headers.items() if k.lower().startswith("x-ratelimit")}
        return Exchange(method, path, response.status_code, body, headers)


@dataclass(frozen=True)
class Observation:
    """What one probe saw, against what Alpaca documents (``as_documented`` None: not run)."""

    name: str
    rows: tuple[int, ...]
    expected: str
    observed: dict[str, Any]
    as_documented: bool | None
    note: str = ""


@dataclass
class ProbeRun:
    http: AlpacaHttp
    symbol: str
    prefix: str
    allow_fills: bool
    order_ids: list[str] = field(default_factory=list)
    price: Decimal = Decimal(0)

    def coid(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def place(self, name: str, qty: str = "1", price: Decimal | None = None) -> Exchange:
        """A one-share DAY limit buy at ``price`` (default: half the bid)."""
        body = {
            "symbol": self.symbol,
            "qty": qty,
            "side": "buy",
            "type": "limit",
            "time_in_force": "day",
            "limit_price": str(price if price is not None else self.price),
            "client_order_id": self.coid(name),
        }
        sent = self.http.trading("POST", "/v2/orders", json=body)
        if sent.status == 200 and isinstance(sent.body, dict):
            self.order_ids.append(str(sent.body["id"]))
        return sent

    def status_of(self, order_id: str) -> str:
        got = self.http.trading("GET", f"/v2/orders/{order_id}")
        return str(got.body.get("status")) if isinstance(got.body, dict) else f"http {got.status}"

    def wait_until(self, order_id: str, done: Callable[[str], bool]) -> tuple[list[str], float]:
        """Statuses seen (deduplicated, in order) until ``done`` or WAIT_S; and seconds taken."""
        seen: list[str] = []
        started = time.monotonic()
        while time.monotonic() - started < WAIT_S:
            status = self.status_of(order_id)
            if not seen or seen[-1] != status:
                seen.append(status)
            if done(status):
                break
            time.sleep(POLL_S)
        return seen, round(time.monotonic() - started, 3)


def far_price(bid: Decimal) -> Decimal:
    """Half the bid on the tick grid: a buy limit no real market reaches in a probe's life."""
    tick = Decimal("0.01") if bid >= 2 else Decimal("0.0001")
    return max(tick, (bid / 2 / tick).to_integral_value(ROUND_FLOOR) * tick)


def probe_account(run: ProbeRun) -> Observation:
    got = run.http.trading("GET", "/v2/account")
    body = got.body if isinstance(got.body, dict) else {}
    fields = (
        "cash",
        "buying_power",
        "regt_buying_power",
        "daytrading_buying_power",
        "non_marginable_buying_power",
        "multiplier",
        "equity",
    )
    present = {f: body.get(f) for f in fields}
    multiplier = str(body.get("multiplier"))
    equity = Decimal(str(body.get("equity") or 0))
    margin_expected = "2" if equity >= 2000 else "1"
    return Observation(
        "account_fields",
        (1, 2),
        "all margin fields present; multiplier 2 at equity >= $2,000 (4 for a PDT >= $25k)",
        {"http": got.brief(), "fields": present},
        all(v is not None for v in present.values()) and multiplier in (margin_expected, "4"),
    )


def probe_rate_limit_headers(run: ProbeRun) -> Observation:
    got = run.http.trading("GET", "/v2/clock")
    wanted = {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}
    seen = {k.lower(): v for k, v in got.headers.items()}
    return Observation(
        "rate_limit_headers",
        (11,),
        "X-RateLimit-Limit/-Remaining/-Reset on every trading response",
        {"headers": seen},
        wanted <= set(seen),
    )


def probe_ack_and_replace(run: ProbeRun) -> list[Observation]:
    """POST answers unfilled and pending; replace keeps omitted attributes (qty) and passes
    through pending_replace; a PATCH that changes nothing is refused."""
    sent = run.place("ack", qty="2")
    ack_status = sent.body.get("status") if isinstance(sent.body, dict) else None
    filled = sent.body.get("filled_qty") if isinstance(sent.body, dict) else None
    order_id = str(sent.body.get("id")) if isinstance(sent.body, dict) else ""
    early = run.http.trading("PATCH", f"/v2/orders/{order_id}", json={"limit_price": "0.02"})
    seen, took = run.wait_until(order_id, lambda s: s not in PENDING)
    ack = Observation(
        "order_acknowledgement",
        (4,),
        "POST answers accepted/pending_new/new with filled_qty 0; new after a latency",
        {"post": sent.brief(), "status": ack_status, "filled_qty": filled, "then": seen, "s": took},
        ack_status in ("accepted", "pending_new", "new") and str(filled) in ("0", "None"),
    )
    pending_patch = Observation(
        "replace_while_pending",
        (3,),
        "a PATCH while the order is accepted/pending_new is refused",
        {"answer": early.brief(), "order_status_then": ack_status},
        early.status >= 400 if ack_status in PENDING else None,
        "" if ack_status in PENDING else "the order was acknowledged at once: not provoked",
    )
    if early.status == 200 and isinstance(early.body, dict):
        run.order_ids.append(str(early.body["id"]))
        order_id = str(early.body["id"])
        run.wait_until(order_id, lambda s: s not in PENDING)
    new_price = str(run.price - Decimal("0.01"))
    replaced = run.http.trading("PATCH", f"/v2/orders/{order_id}", json={"limit_price": new_price})
    body = replaced.body if isinstance(replaced.body, dict) else {}
    old_then = run.status_of(order_id)
    if replaced.status == 200:
        run.order_ids.append(str(body["id"]))
    semantics = Observation(
        "replace_keeps_qty",
        (3,),
        "the replacement keeps every omitted attribute, including qty 2; old goes "
        "pending_replace, then replaced",
        {"answer": replaced.brief(), "new_qty": body.get("qty"), "old_status_then": old_then},
        replaced.status == 200 and str(body.get("qty")) == "2",
    )
    noop = Observation("replace_noop", (3,), "", {}, None, "no replacement to test")
    if replaced.status == 200:
        new_id = str(body["id"])
        run.wait_until(new_id, lambda s: s not in PENDING)
        same = run.http.trading("PATCH", f"/v2/orders/{new_id}", json={"limit_price": new_price})
        if same.status == 200 and isinstance(same.body, dict):
            run.order_ids.append(str(same.body["id"]))
        noop = Observation(
            "replace_noop",
            (3,),
            'a PATCH that changes nothing is refused (403 "order parameters are not changed")',
            {"answer": same.brief()},
            same.status == 403,
        )
    return [ack, pending_patch, semantics, noop]


def probe_fractional_replace(run: ProbeRun) -> Observation:
    sent = run.place("frac", qty="0.5")
    if sent.status != 200 or not isinstance(sent.body, dict):
        return Observation("fractional_replace", (3, 13), "", {"post": sent.brief()}, None)
    order_id = str(sent.body["id"])
    run.wait_until(order_id, lambda s: s not in PENDING)
    patched = run.http.trading("PATCH", f"/v2/orders/{order_id}", json={"qty": "0.6"})
    if patched.status == 200 and isinstance(patched.body, dict):
        run.order_ids.append(str(patched.body["id"]))
    return Observation(
        "fractional_replace",
        (3, 13),
        "the qty of a fractional order cannot be replaced",
        {"answer": patched.brief()},
        patched.status >= 400,
    )


def probe_cancel(run: ProbeRun) -> list[Observation]:
    sent = run.place("cancel")
    order_id = str(sent.body.get("id")) if isinstance(sent.body, dict) else ""
    run.wait_until(order_id, lambda s: s not in PENDING)
    deleted = run.http.trading("DELETE", f"/v2/orders/{order_id}")
    right_after = run.status_of(order_id)
    seen, took = run.wait_until(order_id, lambda s: s == "canceled")
    again = run.http.trading("DELETE", f"/v2/orders/{order_id}")
    return [
        Observation(
            "cancel_window",
            (5,),
            "DELETE answers 204; the order may sit in pending_cancel before canceled",
            {"delete": deleted.brief(), "right_after": right_after, "then": seen, "s": took},
            deleted.status == 204 and seen[-1:] == ["canceled"],
        ),
        Observation(
            "cancel_terminal",
            (5,),
            "cancelling an order that is no longer open fails with 422",
            {"answer": again.brief()},
            again.status == 422,
        ),
    ]


def probe_errors(run: ProbeRun) -> list[Observation]:
    duplicate = run.place("ack", qty="2")
    sub_penny = run.place("subpenny", price=Decimal("1.001") if run.price >= 1 else None)
    body = {"symbol": "ZZZZZQ", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
    unknown = run.http.trading("POST", "/v2/orders", json=body)
    both = {**body, "symbol": run.symbol, "notional": "10", "client_order_id": run.coid("both")}
    both_amounts = run.http.trading("POST", "/v2/orders", json=both)
    return [
        Observation(
            "duplicate_client_order_id",
            (8,),
            '422 / 40010001 "client_order_id must be unique"',
            {"answer": duplicate.brief()},
            duplicate.status == 422
            and duplicate.code == 40010001
            and (duplicate.message or "").startswith("client_order_id must be unique"),
        ),
        Observation(
            "sub_penny_price",
            (8,),
            "422 / 42210000 for a sub-penny limit price",
            {"answer": sub_penny.brief()},
            sub_penny.status == 422 and sub_penny.code == 42210000,
        ),
        Observation(
            "unknown_asset",
            (8,),
            "422 for an unknown symbol (42210000, or 40010001 with its own message)",
            {"answer": unknown.brief()},
            unknown.status == 422,
        ),
        Observation(
            "qty_and_notional",
            (8,),
            "400 when qty and notional are both given",
            {"answer": both_amounts.brief()},
            both_amounts.status in (400, 422),
        ),
    ]


def probe_feeds(run: ProbeRun) -> Observation:
    observed: dict[str, Any] = {}
    for feed in ("iex", "sip", "no-such-feed"):
        got = run.http.data("/v2/stocks/quotes/latest", {"symbols": run.symbol, "feed": feed})
        quote = got.body.get("quotes", {}).get(run.symbol) if isinstance(got.body, dict) else None
        observed[feed] = {"http": got.brief(), "quote": quote}
    bogus = observed["no-such-feed"]["http"]["status"]
    return Observation(
        "market_data_feeds",
        (10,),
        "iex and sip answer (sip 403 without a subscription); an unknown feed is 400/422",
        observed,
        bogus in (400, 422),
    )


def probe_wash_trade(run: ProbeRun) -> Observation:
    """A sell that could cross our own open buy: refused by wash-trade protection. Without that
    protection the sell is marketable, so it runs only when fills are allowed."""
    if not run.allow_fills:
        return Observation(
            "wash_trade", (9,), "", {}, None, "not run: needs --allow-fill-probes (may fill 1)"
        )
    run.place("wash-buy")
    body = {
        "symbol": run.symbol,
        "qty": "1",
        "side": "sell",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": str(run.price),
        "client_order_id": run.coid("wash-sell"),
    }
    sell = run.http.trading("POST", "/v2/orders", json=body)
    if sell.status == 200 and isinstance(sell.body, dict):
        run.order_ids.append(str(sell.body["id"]))
    return Observation(
        "wash_trade",
        (9,),
        '403 / 40310000 "potential wash trade detected. use complex orders"',
        {"answer": sell.brief()},
        sell.status == 403 and "wash trade" in (sell.message or ""),
    )
