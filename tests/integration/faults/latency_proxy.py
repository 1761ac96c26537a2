"""A loopback TCP proxy in front of the moto server that can slow or swallow AWS traffic.

boto3 talks to the proxy (``AWS_ENDPOINT_URL``), so botocore's real socket timeouts and retry
mode apply. Two faults, switchable while traffic flows:

* ``delay_s``: every response chunk is held that long — the request reaches moto (the write
  lands) but the answer comes late, as with a slow dependency;
* ``black_hole``: requests are swallowed — the connection stays open and nothing is answered
  (and nothing is written), as with a hung dependency.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType
from urllib.parse import urlsplit

_CHUNK = 65536


class LatencyProxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream_url!r}")
        self._upstream = (parts.hostname, parts.port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = []
        self._guard = threading.Lock()
        self._closed = False
        self.delay_s = 0.0
        self.black_hole = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def heal(self) -> None:
        self.delay_s = 0.0
        self.black_hole = False

    def __enter__(self) -> LatencyProxy:
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True
        self._listener.close()
        with self._guard:
            for sock in self._sockets:
                sock.close()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(self._upstream)
            except OSError:
                return
            with self._guard:
                self._sockets.extend((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, is_request: bool) -> None:
        try:
            while data := src.recv(_CHUNK):
                if is_request and self.black_hole:
                    continue
                if not is_request and self.delay_s > 0:
                    time.sleep(self.delay_s)
                dst.sendall(data)
        except OSError:
            pass  # one side closed (botocore gave up on a slow answer): end this connection
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
