"""Access control: named tokens and scopes, 401/403, the Host allow-list, reads off
loopback, and the body limit (a huge body is refused before it is read)."""

from __future__ import annotations

import select
import socket
import time
from urllib.parse import urlsplit

import pytest

from modelward.ops.tokens import TokenStore
from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token(live: LiveService, name: str, scope: str) -> str:
    made = live.client.post("/api/v1/tokens", json={"name": name, "scope": scope}, headers=AUTH)
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


def test_a_missing_or_wrong_token_is_401_with_www_authenticate(
    start_service: StartService,
) -> None:
    api = start_service().client
    for headers in ({}, _bearer("wrong"), {"Authorization": "Basic dGVzdA=="}):
        refused = api.post(f"/api/v1/models/{TI2V}/pause", headers=headers)
        assert refused.status_code == 401, refused.text
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert refused.json()["code"] == "unauthorized"
    assert api.post(f"/api/v1/models/{TI2V}/pause", headers=AUTH).status_code == 200


def test_each_scope_does_what_it_covers_and_no_more(start_service: StartService) -> None:
    live = start_service()
    api = live.client
    reader, operator = _token(live, "reader", "read"), _token(live, "ops", "operate")

    forbidden = api.post(f"/api/v1/models/{TI2V}/pause", headers=_bearer(reader))
    assert forbidden.status_code == 403, forbidden.text
    assert forbidden.json()["code"] == "forbidden" and "operate" in forbidden.json()["message"]
    assert "WWW-Authenticate" not in forbidden.headers
    assert api.post(f"/api/v1/models/{TI2V}/pause", headers=_bearer(operator)).status_code == 200
    admin_only = api.put(
        "/api/v1/bandwidth", json={"limit_bytes_per_s": 0}, headers=_bearer(operator)
    )
    assert admin_only.status_code == 403 and admin_only.json()["code"] == "forbidden"
    assert api.get("/api/v1/audit", headers=_bearer(operator)).status_code == 403
    assert api.get("/api/v1/tokens", headers=_bearer(reader)).status_code == 403

    assert api.get("/api/v1/whoami", headers=_bearer(operator)).json() == {
        "name": "ops",
        "scope": "operate",
        "authenticated": True,
        "reads_open": True,
    }
    assert api.get("/api/v1/whoami").json()["authenticated"] is False


def test_tokens_are_listed_without_secrets_and_revoked_at_once(
    start_service: StartService,
) -> None:
    live = start_service()
    api = live.client
    token = _token(live, "ci", "operate")
    listed = api.get("/api/v1/tokens", headers=AUTH).json()
    assert [(t["name"], t["scope"]) for t in listed] == [("service", "admin"), ("ci", "operate")]
    assert listed[1]["hint"] == token[-4:] and token not in str(listed)
    stored = (live.runtime.settings.home / "tokens.json").read_text()
    assert token not in stored
    assert (live.runtime.settings.home / "tokens.json").stat().st_mode & 0o777 == 0o600

    again = api.post("/api/v1/tokens", json={"name": "ci", "scope": "read"}, headers=AUTH)
    assert again.status_code == 422 and "exists" in again.json()["message"]
    assert (
        api.post("/api/v1/tokens", json={"name": "x", "scope": "root"}, headers=AUTH).status_code
        == 422
    )

    assert api.delete("/api/v1/tokens/ci", headers=AUTH).json()["name"] == "ci"
    assert api.post(f"/api/v1/models/{TI2V}/pause", headers=_bearer(token)).status_code == 401
    gone = api.delete("/api/v1/tokens/ci", headers=AUTH)
    assert gone.status_code == 404 and gone.json()["code"] == "token-unknown"


def test_a_token_made_on_the_command_line_works_while_the_service_runs(
    start_service: StartService,
) -> None:
    live = start_service()
    token = TokenStore(live.runtime.settings.home).create("later", "operate")
    paused = live.client.post(f"/api/v1/models/{TI2V}/pause", headers=_bearer(token))
    assert paused.status_code == 200, paused.text


def test_the_host_header_must_name_this_service(start_service: StartService) -> None:
    live = start_service(allowed_hosts=("models.lan", "*.corp.example"))
    api = live.client
    port = urlsplit(str(api.base_url)).port
    for host in ("evil.example", f"evil.example:{port}", "localhost.evil.example"):
        for path in ("/api/v1/models", "/", "/healthz"):
            refused = api.get(path, headers={"Host": host})
            assert refused.status_code == 400, (host, path)
            assert refused.json()["code"] == "host-not-allowed"
    for host in (f"localhost:{port}", "127.0.0.1", "[::1]:1", "models.lan", "a.corp.example"):
        assert api.get("/api/v1/models", headers={"Host": host}).status_code == 200, host
    assert api.get("/api/v1/models", headers={"Host": "10.1.2.3:8321"}).status_code == 200


def test_reads_need_a_read_token_when_bound_off_loopback(
    start_service: StartService, caplog: pytest.LogCaptureFixture
) -> None:
    live = start_service(host="0.0.0.0")
    assert any("not loopback" in r.getMessage() for r in caplog.records)
    api = live.client
    for path in ("/api/v1/models", "/api/v1/events", f"/api/v1/models/{TI2V}/status"):
        refused = api.get(path)
        assert refused.status_code == 401, path
        assert refused.headers["WWW-Authenticate"] == "Bearer"
    reader = _token(live, "reader", "read")
    assert api.get("/api/v1/models", headers=_bearer(reader)).status_code == 200
    assert api.get("/api/v1/whoami", headers=_bearer(reader)).json()["reads_open"] is False
    assert api.get("/healthz").status_code == 200  # liveness stays public
    # A GET that contacts the hub and writes records needs operate, wherever it listens.
    assert api.get(f"/api/v1/models/{TI2V}/update", headers=_bearer(reader)).status_code == 403


def test_reads_can_require_a_token_on_loopback_behind_a_proxy(
    start_service: StartService,
) -> None:
    live = start_service(read_token_required=True)
    api = live.client
    assert api.get("/api/v1/models").status_code == 401
    reader = _token(live, "reader", "read")
    assert api.get("/api/v1/models", headers=_bearer(reader)).status_code == 200
    assert api.get("/api/v1/whoami", headers=_bearer(reader)).json()["reads_open"] is False


def test_the_event_stream_takes_a_read_token_in_the_header_off_loopback(
    start_service: StartService,
) -> None:
    live = start_service(host="0.0.0.0")
    reader = _token(live, "dashboard", "read")
    headers = {**_bearer(reader), "Accept": "text/event-stream"}
    with live.client.stream("GET", "/api/v1/events", headers=headers, timeout=10) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        first = next(response.iter_lines())  # the frame sent at once on subscribing
    assert first == ": connected"


def test_update_check_needs_operate_even_on_loopback(start_service: StartService) -> None:
    api = start_service().client
    assert api.get(f"/api/v1/models/{TI2V}/update").status_code == 401
    assert api.get(f"/api/v1/models/{TI2V}/update", headers=AUTH).status_code == 200


def _raw_request(live: LiveService, head: str) -> socket.socket:
    url = urlsplit(str(live.client.base_url))
    sock = socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=10)
    sock.sendall(head.encode())
    return sock


def _answer(sock: socket.socket) -> str:
    """The whole answer to a refused request, headers and body (which may come in separate
    segments), read as far as its Content-Length."""
    sock.settimeout(5)
    received = b""
    while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < _length(
        received
    ):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received.decode()


def _length(received: bytes) -> int:
    for line in received.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


def test_a_200_mb_body_is_refused_before_it_is_read(start_service: StartService) -> None:
    live = start_service()
    before = _rss_bytes()
    started = time.monotonic()
    head = (
        f"POST /api/v1/models/{TI2V}/pause HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n"
    )
    with _raw_request(live, head) as sock:
        sock.sendall(b"x" * 65536)  # the rest never comes: the answer must not wait for it
        answer = _answer(sock)
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "request-too-large" in answer
    assert time.monotonic() - started < 5
    assert _rss_bytes() - before < 50_000_000
    deadline = time.monotonic() + 10
    while not (found := live.runtime.audit.query(action="pause")):  # written after the answer
        assert time.monotonic() < deadline, "the refusal at the edge was not audited"
        time.sleep(0.05)
    [refused] = found
    assert (refused.actor, refused.outcome, refused.status, refused.model_id) == (
        "anonymous",
        "refused",
        413,
        TI2V,
    )


def test_a_chunked_body_is_cut_off_at_the_limit(start_service: StartService) -> None:
    live = start_service()
    head = (
        f"PUT /api/v1/models/{TI2V}/priority HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {AUTH['Authorization'].split()[1]}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    sent = 0
    with _raw_request(live, head) as sock:
        while sent < 200_000_000 and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(chunk)
            except OSError:
                break
            sent += len(chunk)
        answer = sock.recv(65536).decode()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert sent < 50_000_000, sent
    refused = live.runtime.audit.query(action="set-priority")
    assert [(r.outcome, r.status, r.error_code) for r in refused] == [
        ("refused", 413, "request-too-large")
    ]


def test_the_limit_is_a_setting(start_service: StartService) -> None:
    live = start_service(max_body_bytes=2048)
    body = {"repo_id": "a/" + "b" * 3000}
    refused = live.client.post("/api/v1/models", json=body, headers=AUTH)
    assert refused.status_code == 413 and refused.json()["code"] == "request-too-large"
