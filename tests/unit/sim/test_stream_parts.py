"""Unit tests of the streams' parts that need no server: which faults fire where, the codecs,
and the publisher's "what is new since" cursor."""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, datetime

import msgpack
import pytest

from alpaca_sim.faults import FaultInjector, FaultSpec
from alpaca_sim.stream_hub import Codec
from alpaca_sim.stream_publisher import since

AT = datetime(2026, 3, 2, 15, 0, 0, 123456, tzinfo=UTC)


def test_stream_faults_never_touch_http_requests_and_http_faults_never_streams() -> None:
    faults = FaultInjector(seed=1)
    faults.add(FaultSpec(kind="stream_silent"))  # endpoint "*" matches every name
    faults.add(FaultSpec(kind="http_5xx"))
    assert [f.kind for f in faults.pick("POST /v2/orders")] == ["http_5xx"]
    assert [f.kind for f in faults.pick_stream("WS /stream", "KEY")] == ["stream_silent"]


def test_a_stream_fault_for_one_account_fires_only_on_its_connections() -> None:
    faults = FaultInjector(seed=1)
    faults.add(FaultSpec(endpoint="WS /v2/*", kind="stream_duplicate", api_key="A", count=2))
    assert faults.pick_stream("WS /v2/iex", "B") == []
    assert faults.pick_stream("WS /stream", "A") == []
    assert len(faults.pick_stream("WS /v2/sip", "A")) == 1
    assert len(faults.pick_stream("WS /v2/iex", "A")) == 1
    assert faults.pick_stream("WS /v2/iex", "A") == []  # count spent


def test_msgpack_codec_sends_timestamps_as_msgpack_timestamps() -> None:
    frame = Codec(msgpack=True, json_binary=False).encode([{"T": "q", "t": AT, "bp": 1.5}])
    assert isinstance(frame, bytes)
    (decoded,) = msgpack.unpackb(frame)
    assert decoded["t"].to_datetime() == AT  # what alpaca-py's DataStream calls
    assert decoded["bp"] == 1.5


def test_json_codecs_send_rfc3339_in_binary_or_text_frames() -> None:
    message = {"t": AT}
    binary = Codec(msgpack=False, json_binary=True).encode(message)
    text = Codec(msgpack=False, json_binary=False).encode(message)
    assert isinstance(binary, bytes)
    assert isinstance(text, str)
    assert json.loads(binary) == json.loads(text) == {"t": "2026-03-02T15:00:00.123456Z"}


@pytest.mark.parametrize(
    ("codec", "raw"),
    [
        (Codec(msgpack=True, json_binary=False), b"\xc1"),  # never used in msgpack
        (Codec(msgpack=False, json_binary=True), b"{not json"),
        (Codec(msgpack=False, json_binary=False), "{not json"),
    ],
)
def test_codecs_refuse_garbage_with_value_error(codec: Codec, raw: str | bytes) -> None:
    with pytest.raises(ValueError, match="invalid"):
        codec.decode(raw)


def test_a_msgpack_connection_still_understands_json_text() -> None:
    codec = Codec(msgpack=True, json_binary=False)
    assert codec.decode('{"action": "auth"}') == {"action": "auth"}


def test_since_returns_what_followed_the_cursor_by_identity() -> None:
    a, b, c = object(), object(), object()
    items: deque[object] = deque([a, b, c], maxlen=3)
    assert since(items, a) == [b, c]
    assert since(items, c) == []
    d = object()
    items.append(d)  # a is evicted
    assert since(items, a) == [d]  # cursor lost: only the newest, never a flood
