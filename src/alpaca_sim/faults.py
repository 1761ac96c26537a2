"""Seeded, per-endpoint fault injection.

An endpoint is named ``"METHOD /route/template"``, e.g. ``"POST /v2/orders"`` or
``"GET /v2/orders/{order_id}"``; a :class:`FaultSpec` selects endpoints with a shell-style
pattern (``fnmatch``), e.g. ``"* /v2/orders*"``. Control routes (``/sim/...``) are never faulted.

Kinds:
* ``latency`` — the request is delayed ``latency_s`` SIMULATED seconds, then served normally;
* ``http_429`` / ``http_5xx`` — answered immediately with 429 / ``status`` (default 503) and
  Alpaca's error body, the request is NOT processed;
* ``drop_connection`` — the connection is cut before the request is processed;
* ``lost_response`` — the request IS processed (an order is accepted and stored) but the client
  gets a 504 (or, with ``cut_connection``, a cut connection) instead of the answer;
* ``ambiguous_replace`` — meant for ``"PATCH /v2/orders/{order_id}"``: the replace IS processed
  (the replacement exists) but the client gets 422 / 42210000 "unable to replace order, order
  isn't sent to exchange yet" (reported in alpaca-trade-api-python #306).

Stream kinds (websockets; endpoints ``"WS /stream"``, ``"WS /v2/iex"``, ``"WS /v2/sip"``; each
outgoing order event or market-data frame is one "request"; ``api_key`` narrows a fault to one
account's connections):
* ``stream_disconnect`` — the connection is closed instead of sending the frame (it is lost);
* ``stream_silent`` — the connection stays open but sends nothing more (this frame and protocol
  answers included);
* ``stream_duplicate`` — the frame is sent twice;
* ``stream_reorder`` — the frame is held back and sent right after the next one;
* ``stream_unknown_order`` — (trading stream) an event for an order id the broker never had is
  sent before the frame;
* ``stream_lag`` — the frame (and so everything queued behind it) waits ``latency_s`` simulated
  seconds before it is sent.

Which requests a fault hits: ``every_nth`` (the n-th, 2n-th... matching request), else
``probability`` (seeded per fault). ``count`` caps how many times it fires (a 429 burst is
``count=N, probability=1``); ``after`` skips the first matching requests.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal[
    "latency",
    "http_429",
    "http_5xx",
    "drop_connection",
    "lost_response",
    "ambiguous_replace",
    "stream_disconnect",
    "stream_silent",
    "stream_duplicate",
    "stream_reorder",
    "stream_unknown_order",
    "stream_lag",
]


class FaultSpec(BaseModel):
    """One injected fault. See the module docstring for the semantics of each field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str = "*"
    kind: FaultKind
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    count: int | None = Field(default=None, ge=1)
    every_nth: int | None = Field(default=None, ge=1)
    after: int = Field(default=0, ge=0)
    latency_s: float = Field(default=0.0, ge=0.0)
    status: int | None = None
    cut_connection: bool = False
    api_key: str | None = None  # stream kinds: only this account's connections

    @property
    def on_stream(self) -> bool:
        return self.kind.startswith("stream_")

    def http_status(self) -> int:
        if self.status is not None:
            return self.status
        return {"http_429": 429, "http_5xx": 503, "lost_response": 504}.get(self.kind, 500)


class _Active:
    def __init__(self, spec: FaultSpec, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        self.seen = 0
        self.fired = 0

    def hit(self, endpoint: str, *, stream: bool, api_key: str | None) -> bool:
        if self.spec.on_stream != stream or not fnmatch.fnmatchcase(endpoint, self.spec.endpoint):
            return False
        if self.spec.api_key is not None and self.spec.api_key != api_key:
            return False
        if self.spec.count is not None and self.fired >= self.spec.count:
            return False
        self.seen += 1
        if self.seen <= self.spec.after:
            return False
        nth = self.spec.every_nth
        if nth is not None:
            fire = (self.seen - self.spec.after) % nth == 0
        else:
            fire = self.rng.random() < self.spec.probability
        if fire:
            self.fired += 1
        return fire


class FaultInjector:
    """The active faults. Deterministic for a seed and the sequence of requests."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._active: list[_Active] = []
        self._added = 0

    def add(self, spec: FaultSpec) -> None:
        with self._lock:
            self._added += 1
            self._active.append(_Active(spec, random.Random(f"{self._seed}:fault:{self._added}")))

    def clear(self) -> None:
        with self._lock:
            self._active.clear()

    def specs(self) -> list[FaultSpec]:
        with self._lock:
            return [a.spec for a in self._active]

    def pick(self, endpoint: str) -> list[FaultSpec]:
        """The HTTP faults that fire for this request, in the order they were added.

        Every active fault sees every request (so counters advance independently).
        """
        with self._lock:
            return [a.spec for a in self._active if a.hit(endpoint, stream=False, api_key=None)]

    def pick_stream(self, endpoint: str, api_key: str | None) -> list[FaultSpec]:
        """The stream faults that fire for one outgoing frame of ``api_key``'s connection."""
        with self._lock:
            return [a.spec for a in self._active if a.hit(endpoint, stream=True, api_key=api_key)]
