"""The streams' wire protocol, frame by frame, with a plain websocket client (``websockets``):
frame types and codecs, Alpaca's answers and error codes — what alpaca-py's stream classes hide.
The behaviour behind them is tested through alpaca-py in test_behaviour_streams.py and
test_streams_data.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import jsonschema
import msgpack
import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide
from alpaca.trading.requests import ReplaceOrderRequest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from alpaca_sim import stream_hub
from alpaca_sim.scenario import MarketDataSpec, default_scenario
from alpaca_sim.testing import RunningSimulator
from tests.fixtures.sim import SimFactory
from tests.integration.sim import openapi
from tests.integration.sim.helpers import limit_order
from tests.integration.sim.streams import trade_updates

KEYS = {"KEY1": "SECRET1", "KEY2": "SECRET2"}
MSGPACK = {"Content-Type": "application/msgpack"}


@contextmanager
def _socket(url: str, *, msgpack_codec: bool = False) -> Iterator[ClientConnection]:
    headers = MSGPACK if msgpack_codec else None
    with connect(url, additional_headers=headers, open_timeout=5, close_timeout=1) as ws:
        yield ws


def _recv(ws: ClientConnection) -> Any:
    """A trading-stream frame (JSON, binary or text)."""
    return json.loads(ws.recv(timeout=5))


def _recv_packed(ws: ClientConnection) -> Any:
    """A market-data frame of a msgpack connection."""
    frame = ws.recv(timeout=5)
    assert isinstance(frame, bytes)
    return msgpack.unpackb(frame)


def _data(ws: ClientConnection, message: dict[str, Any]) -> Any:
    ws.send(msgpack.packb(message))
    return _recv_packed(ws)


def _fixed_keys(factory: SimFactory, *, sip_entitled: bool = True) -> RunningSimulator:
    data = MarketDataSpec(sip_entitled=sip_entitled)
    return factory(keys=KEYS, scenario=default_scenario().model_copy(update={"market_data": data}))


# --- trading stream ----------------------------------------------------------------------------


def test_trading_stream_authorizes_and_listens_in_binary_json_frames(
    sim_factory: SimFactory,
) -> None:
    running = _fixed_keys(sim_factory)
    with _socket(running.stream_url + "/stream") as ws:
        auth = {"action": "authenticate", "data": {"key_id": "KEY1", "secret_key": "SECRET1"}}
        ws.send(json.dumps(auth))
        frame = ws.recv(timeout=5)
        assert isinstance(frame, bytes)  # Alpaca's paper /stream sends binary frames
        assert json.loads(frame) == {
            "stream": "authorization",
            "data": {"status": "authorized", "action": "authenticate"},
        }
        ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates", "x"]}}))
        assert _recv(ws) == {"stream": "listening", "data": {"streams": ["trade_updates"]}}
        ws.send(json.dumps({"action": "listen", "data": {"streams": []}}))
        assert _recv(ws) == {"stream": "listening", "data": {"streams": []}}
        ws.send("not json")
        assert _recv(ws) == {"stream": "error", "data": {"error_message": "invalid syntax"}}


def _listening(ws: ClientConnection, key: str, secret: str) -> None:
    ws.send(json.dumps({"action": "auth", "key": key, "secret": secret}))
    assert _recv(ws)["data"]["status"] == "authorized"
    ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
    assert _recv(ws)["stream"] == "listening"


def test_trade_update_orders_conform_to_alpacas_order_schema(sim_factory: SimFactory) -> None:
    running = _fixed_keys(sim_factory)
    running.control.pause_clock()
    running.control.freeze_market(True)
    client: Any = TradingClient("KEY1", "SECRET1", paper=True, url_override=running.base_url)
    order_schema = jsonschema.Draft4Validator(openapi.component("trading", "Order"))
    with _socket(running.stream_url + "/stream") as ws:
        _listening(ws, "KEY1", "SECRET1")
        order = client.submit_order(limit_order("SPY", 10, OrderSide.BUY, 400))
        running.control.advance_time(1)
        running.control.force_fill(str(order.id), Decimal(4))
        new = client.replace_order_by_id(order.id, ReplaceOrderRequest(limit_price=401))
        running.control.advance_time(1)
        client.cancel_order_by_id(new.id)
        running.control.advance_time(1)
        events = [_recv(ws)["data"] for _ in range(8)]
    assert [e["event"] for e in events] == [
        "pending_new",
        "new",
        "partial_fill",
        "pending_replace",
        "pending_new",
        "replaced",
        "new",
        "pending_cancel",
    ]
    for event in events:
        assert not sorted(order_schema.iter_errors(event["order"]), key=str), event["event"]
        datetime.fromisoformat(event["timestamp"])
    fill = events[2]
    assert (fill["qty"], fill["position_qty"], fill["order"]["filled_qty"]) == ("4", "4", "4")
    assert isinstance(fill["price"], str)
    uuid.UUID(fill["execution_id"])


@pytest.mark.parametrize(
    "first",
    [
        {"action": "authenticate", "data": {"key_id": "KEY1", "secret_key": "WRONG"}},
        {"action": "listen", "data": {"streams": ["trade_updates"]}},
    ],
)
def test_trading_stream_refuses_bad_keys_and_listening_unauthenticated(
    sim_factory: SimFactory, first: dict[str, Any]
) -> None:
    running = _fixed_keys(sim_factory)
    with _socket(running.stream_url + "/stream") as ws:
        ws.send(json.dumps(first))
        answer = _recv(ws)
        assert answer["stream"] == "authorization"
        assert answer["data"]["status"] == "unauthorized"
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    assert running.control.stream_clients() == []


def test_trading_stream_with_bad_keys_through_alpaca_py_never_listens(
    sim_factory: SimFactory, caplog: pytest.LogCaptureFixture
) -> None:
    running = _fixed_keys(sim_factory)
    with trade_updates(running, "KEY1", "WRONG", wait=False) as updates:
        assert updates.quiet(1.0) == []
        assert running.control.stream_clients() == []
    assert any("failed to authenticate" in r.getMessage() for r in caplog.records)


# --- market-data stream ----------------------------------------------------------------------


def test_data_stream_connects_authenticates_and_echoes_subscriptions(
    sim_factory: SimFactory,
) -> None:
    running = _fixed_keys(sim_factory)
    with _socket(running.stream_url + "/v2/sip", msgpack_codec=True) as ws:
        assert _recv_packed(ws) == [{"T": "success", "msg": "connected"}]
        assert _data(ws, {"action": "subscribe", "quotes": ["SPY"]}) == [
            {"T": "error", "code": 401, "msg": "not authenticated"}
        ]
        ok = _data(ws, {"action": "auth", "key": "KEY1", "secret": "SECRET1"})
        assert ok == [{"T": "success", "msg": "authenticated"}]
        again = _data(ws, {"action": "auth", "key": "KEY1", "secret": "SECRET1"})
        assert again == [{"T": "error", "code": 403, "msg": "already authenticated"}]
        (echo,) = _data(ws, {"action": "subscribe", "trades": ["aapl"], "quotes": ["SPY"]})
        assert echo["T"] == "subscription"
        assert (echo["trades"], echo["quotes"], echo["bars"]) == (["AAPL"], ["SPY"], [])
        assert echo["corrections"] == echo["cancelErrors"] == ["AAPL"]
        (echo,) = _data(ws, {"action": "unsubscribe", "quotes": ["SPY"]})
        assert (echo["trades"], echo["quotes"]) == (["AAPL"], [])
        assert _data(ws, {"action": "subscribe", "quotes": "SPY"}) == [
            {"T": "error", "code": 400, "msg": "invalid syntax"}
        ]
        assert _data(ws, {"action": "dance"}) == [
            {"T": "error", "code": 400, "msg": "invalid syntax"}
        ]


def test_data_stream_speaks_json_text_without_the_msgpack_header(sim_factory: SimFactory) -> None:
    running = _fixed_keys(sim_factory)
    with _socket(running.stream_url + "/v2/iex") as ws:
        frame = ws.recv(timeout=5)
        assert isinstance(frame, str)
        assert json.loads(frame) == [{"T": "success", "msg": "connected"}]


def test_data_stream_bad_keys_are_402_and_closed(sim_factory: SimFactory) -> None:
    running = _fixed_keys(sim_factory)
    with _socket(running.stream_url + "/v2/iex", msgpack_codec=True) as ws:
        _recv_packed(ws)
        assert _data(ws, {"action": "auth", "key": "KEY1", "secret": "WRONG"}) == [
            {"T": "error", "code": 402, "msg": "auth failed"}
        ]
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


def test_data_stream_second_connection_of_an_account_is_406(sim_factory: SimFactory) -> None:
    running = _fixed_keys(sim_factory)
    url = running.stream_url + "/v2/iex"
    auth = {"action": "auth", "key": "KEY1", "secret": "SECRET1"}
    with _socket(url, msgpack_codec=True) as first, _socket(url, msgpack_codec=True) as second:
        _recv_packed(first)
        assert _data(first, auth) == [{"T": "success", "msg": "authenticated"}]
        _recv_packed(second)
        assert _data(second, auth) == [
            {"T": "error", "code": 406, "msg": "connection limit exceeded"}
        ]
        with _socket(running.stream_url + "/v2/sip", msgpack_codec=True) as other_feed:
            _recv_packed(other_feed)
            assert _data(other_feed, auth) == [{"T": "success", "msg": "authenticated"}]


def test_data_stream_sip_without_the_entitlement_is_409(sim_factory: SimFactory) -> None:
    running = _fixed_keys(sim_factory, sip_entitled=False)
    with _socket(running.stream_url + "/v2/sip", msgpack_codec=True) as ws:
        _recv_packed(ws)
        assert _data(ws, {"action": "auth", "key": "KEY1", "secret": "SECRET1"}) == [
            {"T": "error", "code": 409, "msg": "insufficient subscription"}
        ]
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


def test_data_stream_free_plan_symbol_limit_is_405(sim_factory: SimFactory) -> None:
    running = _fixed_keys(sim_factory, sip_entitled=False)
    with _socket(running.stream_url + "/v2/iex", msgpack_codec=True) as ws:
        _recv_packed(ws)
        _data(ws, {"action": "auth", "key": "KEY1", "secret": "SECRET1"})
        thirty = [f"S{i:02d}" for i in range(30)]
        (echo,) = _data(ws, {"action": "subscribe", "quotes": thirty})
        assert len(echo["quotes"]) == 30
        assert _data(ws, {"action": "subscribe", "quotes": ["ONEMORE"]}) == [
            {"T": "error", "code": 405, "msg": "symbol limit exceeded"}
        ]
        (echo,) = _data(ws, {"action": "subscribe", "trades": ["SPY"]})
        assert len(echo["quotes"]) == 30  # the refused subscribe changed nothing


def test_data_stream_unknown_feed_is_refused_at_the_handshake(sim_factory: SimFactory) -> None:
    running = _fixed_keys(sim_factory)
    with pytest.raises(InvalidStatus) as info, _socket(running.stream_url + "/v2/nasdaq"):
        pass
    assert info.value.response.status_code == 404


def test_data_stream_without_auth_in_time_is_404_and_closed(
    sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_hub, "AUTH_TIMEOUT_S", 0.3)
    running = _fixed_keys(sim_factory)
    with _socket(running.stream_url + "/v2/iex", msgpack_codec=True) as ws:
        _recv_packed(ws)
        assert _recv_packed(ws) == [{"T": "error", "code": 404, "msg": "auth timeout"}]
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
