"""Kept connections for file bodies, over the local hub (HTTPS, CDN origin) and a scripted
server: reuse, TLS session resumption, stale connections, redirects and credentials."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from modelward.catalog import load_catalog
from modelward.devhub import DevHub, Manners
from modelward.errors import IncompleteTransferError
from modelward.sources import HubSource, Target, pool
from modelward.sources.http import HttpClients, build_clients
from modelward.sources.ranged import ByteStream, open_range

REPO = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"


def _drain(clients: HttpClients, url: str, headers: dict[str, str] | None = None) -> bytes:
    with open_range(clients, url, headers=headers or {}, start=0, what="file") as stream:
        out, view = bytearray(), memoryview(bytearray(1 << 16))
        while n := stream.body.readinto(view):
            out += view[:n]
        return bytes(out)


async def _logged(hub: DevHub, count: int) -> None:
    for _ in range(100):
        if len(hub.request_log) >= count:
            return
        await asyncio.sleep(0.02)


def _read_to_end(stream: ByteStream) -> int:
    view, total = memoryview(bytearray(1 << 16)), 0
    while n := stream.body.readinto(view):
        total += n
    return total


@pytest.fixture
def tls_hub(hub_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DevHub]:
    hub = DevHub(root=hub_root, scale="tiny", manners=Manners(tls=True, cdn_url_ttl_s=60))
    with hub.running_in_thread() as server:
        assert server.ca_path is not None
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_path))
        yield server


@pytest.fixture
def clients() -> Iterator[HttpClients]:
    made = build_clients(read_timeout_s=10)
    yield made
    made.bodies.close()
    made.pool.close()


async def _target(hub: DevHub, clients: HttpClients) -> tuple[HubSource, Target]:
    spec = load_catalog().get("ti2v-5b")
    source = HubSource(clients, hub.url)
    return source, await source.resolve(spec)


async def test_segments_of_a_file_share_one_resolve_and_one_connection_per_host(
    tls_hub: DevHub, clients: HttpClients
) -> None:
    source, target = await _target(tls_hub, clients)
    file = max(target.files, key=lambda f: f.size_bytes)
    tls_hub.clear_log()
    step = max(1, file.size_bytes // 10)
    received = bytearray()
    for start in range(0, file.size_bytes, step):
        end = min(file.size_bytes, start + step)
        with source.open_file(target, file, start=start, end=end) as stream:
            view = memoryview(bytearray(end - start))
            got = 0
            while n := stream.body.readinto(view[got:]):
                got += n
            received += view[:got]
    assert len(received) == file.size_bytes
    pieces = len(range(0, file.size_bytes, step))
    await _logged(tls_hub, pieces + 1)
    assert tls_hub.resolve_count() == 1
    assert tls_hub.new_connections("hub") == 1 and tls_hub.new_connections("cdn") == 1
    assert len([r for r in tls_hub.request_log if r.host == "cdn"]) == pieces >= 10


async def test_a_new_connection_resumes_the_hosts_tls_session(
    tls_hub: DevHub, clients: HttpClients
) -> None:
    source, target = await _target(tls_hub, clients)
    first, second = sorted(target.files, key=lambda f: f.size_bytes)[-2:]
    with source.open_file(target, first) as a:
        _read_to_end(a)
    tls_hub.clear_log()
    # Two bodies open at once: the kept connection serves one, a new one the other.
    with source.open_file(target, first) as a, source.open_file(target, second) as b:
        _read_to_end(a), _read_to_end(b)
    await _logged(tls_hub, 3)  # the hub logs a request once its answer is sent
    fresh = [r for r in tls_hub.request_log if r.new_connection]
    assert fresh and all(r.tls_resumed for r in fresh), fresh


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str | None, int]]
    close_after_each = False

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        # The client port names the connection (an id() may be reused once one is closed).
        self.seen.append((self.path, self.headers.get("Authorization"), self.client_address[1]))
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", self.headers["X-Next"])
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"moved")
            return
        if self.path == "/nothing":
            self.send_response(204)
            self.send_header("Content-Length", "10")  # as some servers do; no body follows
            self.end_headers()
            return
        if self.path.startswith("/hop/"):
            self.send_response(302)
            self.send_header("Location", "/blob/ünï")  # raw, not percent-encoded
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"x" * 1000
        self.send_response(200)
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"3e8\r\n" + body + b"\r\n0\r\n\r\n")
        elif self.path == "/chunked-cut":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"3e8\r\n" + body[:500])
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        if self.close_after_each:
            # Closes without saying so, as an idle timeout does between requests.
            self.close_connection = True


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[str, list[tuple[str, str | None, int]]]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(**attrs: object) -> tuple[str, list[tuple[str, str | None, int]]]:
        seen: list[tuple[str, str | None, int]] = []
        handler = type("Handler", (_Handler,), {"seen": seen, **attrs})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_chunked_and_sized_bodies_leave_the_connection_reusable(
    serve: Callable[..., tuple[str, list[tuple[str, str | None, int]]]], clients: HttpClients
) -> None:
    base, seen = serve()
    for path in ("/a", "/chunked", "/b", "/chunked"):
        assert _drain(clients, base + path) == b"x" * 1000
    assert len({conn for _, _, conn in seen}) == 1


def test_a_connection_the_server_closed_is_replaced_silently(
    serve: Callable[..., tuple[str, list[tuple[str, str | None, int]]]], clients: HttpClients
) -> None:
    base, seen = serve(close_after_each=True)
    for path in ("/a", "/b", "/c"):
        assert _drain(clients, base + path) == b"x" * 1000
    assert [p for p, _, _ in seen] == ["/a", "/b", "/c"]


def test_credentials_do_not_follow_a_redirect_to_another_origin(
    serve: Callable[..., tuple[str, list[tuple[str, str | None, int]]]], clients: HttpClients
) -> None:
    hub, hub_seen = serve()
    cdn, cdn_seen = serve()
    auth = {"Authorization": "Bearer secret"}
    assert _drain(clients, hub + "/moved", {**auth, "X-Next": cdn + "/blob"}) == b"x" * 1000
    assert _drain(clients, hub + "/moved", {**auth, "X-Next": hub + "/blob"}) == b"x" * 1000
    assert [(p, a) for p, a, _ in hub_seen] == [
        ("/moved", "Bearer secret"),
        ("/moved", "Bearer secret"),
        ("/blob", "Bearer secret"),
    ]
    assert [(p, a) for p, a, _ in cdn_seen] == [("/blob", None)]
    # The redirect's own small body was read, so its connection served the next request.
    assert len({conn for _, _, conn in hub_seen}) == 1


def test_a_chunked_body_cut_short_is_an_incomplete_transfer_to_retry(
    serve: Callable[..., tuple[str, list[tuple[str, str | None, int]]]], clients: HttpClients
) -> None:
    base, _ = serve()
    with pytest.raises(IncompleteTransferError) as caught:
        _drain(clients, base + "/chunked-cut")
    assert caught.value.retryable


def test_no_body_answers_and_unencoded_redirects_keep_the_connection(
    serve: Callable[..., tuple[str, list[tuple[str, str | None, int]]]], clients: HttpClients
) -> None:
    base, seen = serve()
    with open_range(clients, base + "/nothing", headers={}, start=0, what="f") as stream:
        assert stream.body.remaining == 0
    assert _drain(clients, base + "/hop/1") == b"x" * 1000
    assert [p for p, _, _ in seen] == ["/nothing", "/hop/1", "/blob/%C3%BCn%C3%AF"]
    assert len({conn for _, _, conn in seen}) == 1


def test_a_connection_idle_too_long_is_not_used_again(
    serve: Callable[..., tuple[str, list[tuple[str, str | None, int]]]],
    clients: HttpClients,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A NAT may drop an idle connection without a word; past the keep-alive, a new one.
    base, seen = serve()
    _drain(clients, base + "/a")
    monkeypatch.setattr(pool, "KEEPALIVE_S", 0.0)
    _drain(clients, base + "/b")
    assert len({conn for _, _, conn in seen}) == 2
