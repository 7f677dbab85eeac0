"""open_range and the pooled bodies against a real HTTP server with scripted responses."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from modelward.errors import IncompleteTransferError, ProtocolViolationError
from modelward.sources.http import HttpClients, build_clients
from modelward.sources.ranged import open_range

BODY = bytes(range(256)) * 4096  # 1 MiB


def _read_all(read: Callable[[memoryview], int], size: int = 65536) -> bytes:
    out = bytearray()
    buffer = memoryview(bytearray(size))
    while n := read(buffer):
        out += buffer[:n]
    return bytes(out)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "length"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        start = int(self.headers.get("Range", "bytes=0-").split("=")[1].split("-")[0])
        body = BODY[start:]
        self.send_response(206 if start and self.mode != "late-html" else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(BODY) - 1}/{len(BODY)}")
        if self.mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 100_000):
                piece = body[i : i + 100_000]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.mode == "late-html":
            # An error page with a 200 to a ranged request, its body sent after the head.
            page = b"<!DOCTYPE html><html><body>Service unavailable</body></html>"
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            time.sleep(0.2)
            self.wfile.write(page)
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.mode == "short":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.mode == "stall":
            self.wfile.write(body[:1000])
            self.wfile.flush()
            time.sleep(5)
            return
        self.wfile.write(body)


@pytest.fixture
def serve() -> Iterator[Callable[[str], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(mode: str) -> str:
        handler = type("Handler", (_Handler,), {"mode": mode})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/file"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def clients() -> Iterator[HttpClients]:
    made = build_clients(read_timeout_s=30)
    yield made
    made.bodies.close()
    made.pool.close()


@pytest.mark.parametrize("mode", ["length", "chunked"])
@pytest.mark.parametrize("start", [0, 12345])
def test_the_body_arrives_whole_with_or_without_a_length(
    serve: Callable[[str], str], clients: HttpClients, mode: str, start: int
) -> None:
    with (
        open_range(clients, serve(mode), headers={}, start=start, what="file") as stream,
    ):
        assert stream.start == start
        assert _read_all(stream.body.readinto) == BODY[start:]
        assert stream.body.remaining in (0, None)


def test_an_error_page_whose_body_comes_after_the_head_is_still_seen(
    serve: Callable[[str], str], clients: HttpClients
) -> None:
    with (
        pytest.raises(ProtocolViolationError, match="HTML page instead of the file"),
        open_range(clients, serve("late-html"), headers={}, start=100, what="file"),
    ):
        pass


def test_a_connection_that_ends_early_is_an_incomplete_transfer(
    serve: Callable[[str], str], clients: HttpClients
) -> None:
    with (
        open_range(clients, serve("short"), headers={}, start=0, what="file") as stream,
        pytest.raises(IncompleteTransferError, match=r"ended early|connection"),
    ):
        _read_all(stream.body.readinto)


def test_abort_wakes_a_read_blocked_on_a_silent_server(
    serve: Callable[[str], str], clients: HttpClients
) -> None:
    with (
        open_range(clients, serve("stall"), headers={}, start=0, what="file") as stream,
    ):
        first = stream.body.readinto(memoryview(bytearray(1000)))
        assert first > 0
        threading.Timer(0.2, stream.body.abort).start()
        began = time.monotonic()
        with pytest.raises(IncompleteTransferError):
            _read_all(stream.body.readinto)
        assert time.monotonic() - began < 1.5


class _ProxyHandler(_Handler):
    """A forward proxy that answers for any origin (it only has to be asked)."""

    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.asked.append(self.path)
        super().do_GET()


def test_a_url_the_environment_proxies_goes_through_the_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    clients = build_clients(read_timeout_s=30)  # httpx reads the proxy settings when built
    try:
        url = "http://weights.example/file"
        with open_range(clients, url, headers={}, start=7, what="file") as stream:
            assert _read_all(stream.body.readinto) == BODY[7:]
        assert _ProxyHandler.asked == [url]
    finally:
        clients.bodies.close()
        clients.pool.close()
        server.shutdown()
        server.server_close()
