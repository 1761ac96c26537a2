"""The in-process server: its connections skip Nagle, and it stops whether or not exit waits."""

from __future__ import annotations

import asyncio
import socket
import time

import requests

from alpaca_sim.testing import loopback_listener, running_simulator

STOP_DEADLINE_S = 10.0


def _accepted_nodelay(listener: socket.socket) -> int:
    """Serve ``listener`` with asyncio, connect once, and read TCP_NODELAY of the accepted side."""

    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname())
            try:
                return await asyncio.wait_for(accepted, timeout=STOP_DEADLINE_S)
            finally:
                writer.close()

    return asyncio.run(main())


def test_connections_accepted_on_the_listener_have_nagle_off() -> None:
    assert _accepted_nodelay(loopback_listener()) != 0


def _refused(base_url: str) -> bool:
    try:
        requests.get(f"{base_url}/v2/clock", timeout=1)
    except requests.ConnectionError:
        return True
    return False


def test_exit_stops_the_server_before_returning() -> None:
    with running_simulator() as sim:
        assert not _refused(sim.base_url)
    assert _refused(sim.base_url)


def test_exit_without_waiting_still_stops_the_server() -> None:
    with running_simulator(wait_for_stop=False) as sim:
        url = sim.base_url
        assert not _refused(url)
    deadline = time.monotonic() + STOP_DEADLINE_S
    while not _refused(url):
        assert time.monotonic() < deadline, "server still serving 10 s after exit"
        time.sleep(0.05)
