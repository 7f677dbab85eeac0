"""A TCP proxy on loopback that slows what clients send to a real server (here: uploads to
the S3 server), so a test can stop a client for certain while its upload is under way."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

CHUNK = 64 * 1024


class _Rate:
    """One budget of bytes per second shared by every connection."""

    def __init__(self, bytes_per_s: float) -> None:
        self.bytes_per_s = bytes_per_s
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def take(self, count: int) -> None:
        with self._lock:
            start = max(self._next, time.monotonic())
            self._next = start + count / self.bytes_per_s
        time.sleep(max(0.0, start - time.monotonic()))


def _pump(src: socket.socket, dst: socket.socket, rate: _Rate | None) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(CHUNK):
            if rate is not None:
                rate.take(len(data))
            dst.sendall(data)
    for sock in (src, dst):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def throttled(upstream: str, bytes_per_s: float) -> Iterator[str]:
    """A proxy to ``http://HOST:PORT`` that lets clients send ``bytes_per_s`` in total;
    yields its own ``http://`` URL."""
    host, port = upstream.removeprefix("http://").rsplit(":", 1)
    listener = socket.create_server(("127.0.0.1", 0))
    rate = _Rate(bytes_per_s)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection((host, int(port)))
            threading.Thread(target=_pump, args=(client, server, rate), daemon=True).start()
            threading.Thread(target=_pump, args=(server, client, None), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        listener.close()
