"""The adapter's transport against a hung socket: explicit timeouts, retries bounded by the
deadline (the 429/5xx storm test shows no hidden alpaca-py retries: every request is counted)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from rebalance_executor.adapters.alpaca_broker import AlpacaBroker
from rebalance_executor.domain.broker import BrokerUnavailableError
from rebalance_executor.domain.clock import Deadline, SystemClock


@pytest.fixture
def silent_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """Accepts connections and never answers (a hung upstream)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    stop.set()
    thread.join(timeout=2)
    for conn in accepted:
        conn.close()
    listener.close()


def test_hung_broker_times_out_and_gives_up_inside_the_deadline(
    silent_server: tuple[str, list[socket.socket]],
) -> None:
    url, accepted = silent_server
    clock = SystemClock()
    deadline = Deadline.from_remaining(clock, 3.5, reserve_s=0.5)
    broker = AlpacaBroker.create(
        api_key="k",
        secret_key="s",
        paper=True,
        base_url=url,
        timeout_s=0.3,
        clock=clock,
        deadline=deadline,
    )
    started = time.monotonic()
    with pytest.raises(BrokerUnavailableError, match="get_account"):
        asyncio.run(broker.get_account())
    elapsed = time.monotonic() - started
    # without the deadline bound, 8 attempts with backoff would take ~17 s
    assert elapsed < 5.0
    assert broker.request_count() == len(accepted) >= 2  # our retries, each one counted
