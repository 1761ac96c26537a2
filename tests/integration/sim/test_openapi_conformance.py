"""Every response body the simulator produces conforms to Alpaca's published OpenAPI schema.

The schemas are read in place from ``<repo>/../shared/alpaca-openapi/`` (absent: the tests FAIL).
Routes are enumerated from the FastAPI app, so a new route without a conformance case fails
``test_every_served_route_has_a_conformance_case``. Where the 2022 files lack an endpoint
(``GET /v2/assets``, ``GET /v2/assets/{symbol}``, ``GET /v2/orders:by_client_order_id``) the body
is validated against the closest component (``Assets``, ``Order``); error bodies, which the files
document without a schema, against Alpaca's ``{"code", "message"}`` shape. Control routes
(``/sim/...``) are the simulator's own test interface, not Alpaca's, and are not covered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
import requests

from alpaca_sim.app import create_fastapi
from alpaca_sim.engine import SimEngine
from alpaca_sim.testing import RunningSimulator, running_simulator
from tests.fixtures.sim import TEST_START
from tests.integration.sim import openapi

HEADERS = {"APCA-API-KEY-ID": "CONFKEY", "APCA-API-SECRET-KEY": "CONFSECRET"}
UNKNOWN_ORDER = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Target:
    """Where a served route's bodies are described: a documented path, or a component."""

    spec: str
    path: str | None = None
    component: str | None = None
    array: bool = False


_ORDERS, _ORDER = Target("trading", "/v2/orders"), Target("trading", "/v2/orders/{order_id}")
_POSITIONS = Target("trading", "/v2/positions")
_POSITION = Target("trading", "/v2/positions/{symbol_or_asset_id}")
TARGETS: dict[str, Target] = {
    "GET /v2/account": Target("trading", "/v2/account"),
    "GET /v2/clock": Target("trading", "/v2/clock"),
    "GET /v2/assets": Target("trading", component="Assets", array=True),
    "GET /v2/assets/{symbol}": Target("trading", component="Assets"),
    "GET /v2/positions": _POSITIONS,
    "DELETE /v2/positions": _POSITIONS,
    "GET /v2/positions/{symbol}": _POSITION,
    "DELETE /v2/positions/{symbol}": _POSITION,
    "POST /v2/orders": _ORDERS,
    "GET /v2/orders": _ORDERS,
    "DELETE /v2/orders": _ORDERS,
    "GET /v2/orders:by_client_order_id": Target("trading", component="Order"),
    "GET /v2/orders/{order_id}": _ORDER,
    "PATCH /v2/orders/{order_id}": _ORDER,
    "DELETE /v2/orders/{order_id}": _ORDER,
    "GET /v2/stocks/quotes/latest": Target("data", "/v2/stocks/quotes/latest"),
    "GET /v2/stocks/{symbol}/quotes/latest": Target("data", "/v2/stocks/{symbol}/quotes/latest"),
    "GET /v2/stocks/trades/latest": Target("data", "/v2/stocks/trades/latest"),
    "GET /v2/stocks/{symbol}/trades/latest": Target("data", "/v2/stocks/{symbol}/trades/latest"),
    "GET /v2/stocks/bars": Target("data", "/v2/stocks/bars"),
    "GET /v2/stocks/{symbol}/bars": Target("data", "/v2/stocks/{symbol}/bars"),
}


def served_routes() -> set[str]:
    """``"METHOD /path"`` of every Alpaca route the app serves (its own route table)."""
    app = create_fastapi(SimEngine())
    return {
        f"{method.upper()} {path}"
        for path, methods in app.openapi()["paths"].items()
        if not path.startswith("/sim/")
        for method in methods
    }


def schema_for(route: str, status: int) -> dict[str, Any] | None:
    """The JSON Schema of ``route``'s body at ``status``; None when no body is documented."""
    target = TARGETS[route]
    method = route.split(" ", 1)[0].lower()
    documented = None
    if target.path is not None:
        documented = openapi.response_schema(target.spec, target.path, method, status)
    if status >= 400:
        return documented or openapi.ERROR_SCHEMA
    if target.component is not None:
        return openapi.component(target.spec, target.component, array=target.array)
    return documented


@dataclass
class Recorder:
    """Sends requests and keeps (route, status, body) for validation."""

    base_url: str
    seen: list[tuple[str, int, Any]] = field(default_factory=list)

    def call(self, route: str, url: str, **kw: Any) -> Any:
        method = route.split(" ", 1)[0]
        response = requests.request(
            method, self.base_url + url, timeout=10, **{"headers": HEADERS, **kw}
        )
        body = response.json() if response.content else None
        self.seen.append((route, response.status_code, body))
        return body


def _trading_probes(rec: Recorder, sim: RunningSimulator) -> None:
    rec.call("GET /v2/account", "/v2/account")
    rec.call("GET /v2/clock", "/v2/clock")
    rec.call("GET /v2/assets", "/v2/assets")
    rec.call("GET /v2/assets/{symbol}", "/v2/assets/SPY")
    rec.call("GET /v2/assets/{symbol}", "/v2/assets/NOPE")
    post = "POST /v2/orders"
    market = rec.call(post, "/v2/orders", json=_order("SPY", "market", qty="5"))
    resting = rec.call(post, "/v2/orders", json=_order("SPY", "limit", qty="1", limit_price="300"))
    doomed = rec.call(post, "/v2/orders", json=_order("AAPL", "limit", qty="1", limit_price="100"))
    rec.call(post, "/v2/orders", json=_order("SPY", "limit", qty="0", limit_price="300"))
    rec.call(post, "/v2/orders", json=_order("SPY", "market", qty="1000000"))
    rec.call(
        post,
        "/v2/orders",
        json={**_order("SPY", "market", qty="1"), "client_order_id": resting["client_order_id"]},
    )
    sim.control.advance_time(5)
    rec.call(
        "PATCH /v2/orders/{order_id}", f"/v2/orders/{resting['id']}", json={"limit_price": "301"}
    )
    rec.call("DELETE /v2/orders/{order_id}", f"/v2/orders/{doomed['id']}")
    rec.call("DELETE /v2/orders/{order_id}", f"/v2/orders/{market['id']}")
    sim.control.advance_time(5)
    for order in (market, resting, doomed):
        rec.call("GET /v2/orders/{order_id}", f"/v2/orders/{order['id']}")
    rec.call("GET /v2/orders/{order_id}", f"/v2/orders/{UNKNOWN_ORDER}")
    rec.call(
        "GET /v2/orders:by_client_order_id",
        "/v2/orders:by_client_order_id",
        params={"client_order_id": market["client_order_id"]},
    )
    rec.call("GET /v2/orders", "/v2/orders", params={"status": "all", "limit": "500"})
    rec.call("GET /v2/positions", "/v2/positions")
    rec.call("GET /v2/positions/{symbol}", "/v2/positions/SPY")
    rec.call("GET /v2/positions/{symbol}", "/v2/positions/NOPE")
    rec.call("DELETE /v2/positions/{symbol}", "/v2/positions/SPY", params={"qty": "1"})
    sim.control.set_market_open(False)
    rec.call(post, "/v2/orders", json=_order("QQQ", "market", qty="1"))
    rec.call("DELETE /v2/orders", "/v2/orders")
    sim.control.set_market_open(True)
    sim.control.advance_time(5)
    rec.call("DELETE /v2/positions", "/v2/positions", params={"cancel_orders": "true"})
    rec.call("GET /v2/account", "/v2/account", headers={})


def _order(symbol: str, kind: str, **fields: str) -> dict[str, str]:
    return {"symbol": symbol, "side": "buy", "type": kind, "time_in_force": "day", **fields}


def _data_probes(rec: Recorder) -> None:
    for feed in ("sip", "iex"):
        params = {"symbols": "SPY,AAPL,NOPE", "feed": feed}
        rec.call("GET /v2/stocks/quotes/latest", "/v2/stocks/quotes/latest", params=params)
        rec.call("GET /v2/stocks/trades/latest", "/v2/stocks/trades/latest", params=params)
        bars = {**params, "timeframe": "1Min", "limit": "20"}
        page = rec.call("GET /v2/stocks/bars", "/v2/stocks/bars", params=bars)
        rec.call(
            "GET /v2/stocks/bars",
            "/v2/stocks/bars",
            params={**bars, "page_token": page["next_page_token"]},
        )
        single = {"feed": feed}
        rec.call(
            "GET /v2/stocks/{symbol}/quotes/latest", "/v2/stocks/SPY/quotes/latest", params=single
        )
        rec.call(
            "GET /v2/stocks/{symbol}/trades/latest", "/v2/stocks/SPY/trades/latest", params=single
        )
        rec.call(
            "GET /v2/stocks/{symbol}/bars",
            "/v2/stocks/SPY/bars",
            params={**single, "timeframe": "5Min", "limit": "3"},
        )
    rec.call("GET /v2/stocks/{symbol}/quotes/latest", "/v2/stocks/NOPE/quotes/latest")
    rec.call("GET /v2/stocks/{symbol}/trades/latest", "/v2/stocks/NOPE/trades/latest")
    rec.call(
        "GET /v2/stocks/quotes/latest",
        "/v2/stocks/quotes/latest",
        params={"symbols": "SPY", "feed": "bogus"},
    )
    rec.call("GET /v2/stocks/trades/latest", "/v2/stocks/trades/latest", params={"symbols": ""})
    rec.call(
        "GET /v2/stocks/bars", "/v2/stocks/bars", params={"symbols": "SPY", "timeframe": "7Weeks"}
    )
    rec.call(
        "GET /v2/stocks/{symbol}/bars",
        "/v2/stocks/SPY/bars",
        params={"timeframe": "1Min", "page_token": "%%%"},
    )


@pytest.fixture(scope="module")
def recorded() -> Iterator[list[tuple[str, int, Any]]]:
    with running_simulator(seed=11, time_scale=1.0, start=TEST_START) as sim:
        sim.control.pause_clock()
        sim.control.advance_time(600)
        rec = Recorder(sim.base_url)
        _trading_probes(rec, sim)
        _data_probes(rec)
        yield rec.seen


def test_every_served_route_has_a_conformance_case() -> None:
    uncovered = served_routes() - TARGETS.keys()
    assert not uncovered, f"served routes without a conformance case: {sorted(uncovered)}"
    assert not TARGETS.keys() - served_routes(), "conformance cases for routes no longer served"


def test_every_response_body_conforms(recorded: list[tuple[str, int, Any]]) -> None:
    failures = []
    for route, status, body in recorded:
        schema = schema_for(route, status)
        if schema is None:
            assert body is None, f"{route} {status} sent a body its spec does not document"
            continue
        errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(body), key=str)
        failures += [f"{route} {status}: {e.message} at {list(e.absolute_path)}" for e in errors]
    assert not failures, "\n".join(failures)


def test_every_served_route_and_outcome_was_exercised(recorded: list[tuple[str, int, Any]]) -> None:
    exercised = {route for route, _, _ in recorded}
    assert served_routes() <= exercised, sorted(served_routes() - exercised)
    statuses = {status for _, status, _ in recorded}
    assert {200, 204, 207, 400, 401, 403, 404, 422} <= statuses, sorted(statuses)
    order_statuses = {
        body["status"]
        for route, status, body in recorded
        if route.endswith("/v2/orders/{order_id}") and status == 200 and isinstance(body, dict)
    }
    assert len(order_statuses) >= 3, order_statuses


def test_the_validation_can_fail() -> None:
    order = schema_for("GET /v2/orders/{order_id}", 200)
    bars = schema_for("GET /v2/stocks/bars", 200)
    assert order is not None
    assert bars is not None
    assert not jsonschema.Draft4Validator(order).is_valid({"id": 7, "status": "new"})
    assert not jsonschema.Draft4Validator(bars).is_valid({"bars": {"SPY": [{"t": "x", "o": "1"}]}})
    assert not jsonschema.Draft4Validator(openapi.ERROR_SCHEMA).is_valid({"message": "no code"})
