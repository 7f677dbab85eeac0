"""The local hub's real-Hub manners over real sockets: HTTPS, signed CDN URLs, RTT, rate limits."""

from __future__ import annotations

import asyncio
import hashlib
import os
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from modelward.devhub import DevHub, Manners

REPO = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"


def _lfs_path(hub: DevHub) -> tuple[str, str]:
    entry = next(f for f in hub.manifest(REPO).files if f.is_lfs)
    return f"/{REPO}/resolve/main/{entry.path}", entry.content_sha256


@pytest.fixture
def start(hub_root: Path) -> Callable[..., object]:
    @asynccontextmanager
    async def _start(**manners: object) -> AsyncIterator[tuple[DevHub, httpx.AsyncClient]]:
        hub = DevHub(root=hub_root, scale="tiny", manners=Manners(**manners))  # type: ignore[arg-type]
        await hub.start()
        verify: ssl.SSLContext | bool = True
        if hub.ca_path is not None:
            verify = ssl.create_default_context(cafile=str(hub.ca_path))
        try:
            async with httpx.AsyncClient(verify=verify, base_url=hub.url) as client:
                yield hub, client
        finally:
            await hub.stop()

    return _start


async def test_off_by_default(start: Callable[..., object]) -> None:
    async with start() as (hub, client):  # type: ignore[attr-defined]
        path, _ = _lfs_path(hub)
        resp = await client.get(path)
        assert hub.url.startswith("http://") and hub.ca_path is None
        assert resp.status_code == 302 and "Signature" not in resp.headers["location"]
        assert "RateLimit" not in resp.headers and hub.cdn_url == f"http://localhost:{hub.port}"


async def test_https_redirects_to_a_signed_url_on_a_separate_cdn(
    start: Callable[..., object],
) -> None:
    async with start(tls=True, cdn_url_ttl_s=30) as (hub, client):  # type: ignore[attr-defined]
        path, sha = _lfs_path(hub)
        assert hub.ca_path is not None and hub.ca_path.is_file()
        resp = await client.get(path, follow_redirects=True)
        assert resp.status_code == 200 and hashlib.sha256(resp.content).hexdigest() == sha
        location = urlsplit(resp.history[0].headers["location"])
        assert f"https://{location.netloc}" == hub.cdn_url and hub.cdn_port != hub.port
        assert set(parse_qs(location.query)) >= {"Expires", "Signature"}
        assert hub.resolve_count() == 1
        assert hub.new_connections("hub") == 1 and hub.new_connections("cdn") == 1
        assert [r.host for r in hub.request_log] == ["hub", "cdn"]
        assert all(r.tls_resumed is False for r in hub.request_log)


async def test_expired_or_forged_cdn_url_is_403_and_a_fresh_resolve_works(
    start: Callable[..., object],
) -> None:
    async with start(tls=True, cdn_url_ttl_s=1) as (hub, client):  # type: ignore[attr-defined]
        path, sha = _lfs_path(hub)
        url = (await client.get(path)).headers["location"]
        forged = await client.get(url[:-4] + "0000")
        assert forged.status_code == 403 and b"AccessDenied" in forged.content
        expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
        await asyncio.sleep(max(0.0, expires - time.time()) + 0.2)
        expired = await client.get(url)
        assert expired.status_code == 403 and b"Request has expired" in expired.content
        fresh = await client.get(path, follow_redirects=True)
        assert hashlib.sha256(fresh.content).hexdigest() == sha
        assert hub.resolve_count() == 2


@pytest.mark.parametrize("tls", [False, True])
async def test_latency_is_charged_per_connection_and_per_request(
    start: Callable[..., object], tls: bool
) -> None:
    rtt = 0.1
    async with start(tls=tls, rtt_s=rtt) as (hub, client):  # type: ignore[attr-defined]
        t0 = time.monotonic()
        await client.get(f"/api/models/{REPO}")
        first = time.monotonic() - t0
        t0 = time.monotonic()
        await client.get(f"/api/models/{REPO}")
        second = time.monotonic() - t0
        handshake_rtts = 2 if tls else 1
        assert first >= rtt * (1 + handshake_rtts) - 0.01
        assert rtt - 0.01 <= second < first
        assert hub.new_connections() == 1
        assert [r.new_connection for r in hub.request_log] == [True, False]
        assert [r.tls_resumed for r in hub.request_log] == [False if tls else None] * 2


async def test_rate_limit_announces_then_429s_then_recovers(
    start: Callable[..., object],
) -> None:
    async with start(rate_limit=3, rate_window_s=1) as (hub, client):  # type: ignore[attr-defined]
        path, _ = _lfs_path(hub)
        answers = [await client.get(f"/api/models/{REPO}") for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert all(r.headers["RateLimit-Policy"] == '"api";q=3;w=1' for r in answers)
        remaining = [r.headers["RateLimit"].split(";")[1] for r in answers]
        assert remaining == ["r=2", "r=1", "r=0", "r=0"]
        assert answers[3].headers["Retry-After"] == "1"
        assert answers[0].headers["RateLimit"] == '"api";r=2;t=1'
        resolved = await client.get(path)  # resolve is counted under its own policy
        assert resolved.status_code == 302
        assert resolved.headers["RateLimit"].startswith('"resolve";r=2;')
        await asyncio.sleep(float(answers[3].headers["Retry-After"]) + 0.05)
        assert (await client.get(f"/api/models/{REPO}")).status_code == 200
        cdn = await client.get(resolved.headers["location"])
        assert cdn.status_code == 200 and "RateLimit" not in cdn.headers
        for _ in range(3):
            await client.get(f"/api/models/{REPO}")
        hub.restart_rate_window()
        fresh = await client.get(f"/api/models/{REPO}")
        assert fresh.status_code == 200 and fresh.headers["RateLimit"].startswith('"api";r=2;')


def test_huggingface_hub_downloads_over_https(hub_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("huggingface_hub")
    manners = Manners(tls=True, rtt_s=0.02, cdn_url_ttl_s=30)
    with DevHub(root=hub_root, scale="tiny", manners=manners).running_in_thread() as hub:
        _, sha = _lfs_path(hub)
        entry = next(f for f in hub.manifest(REPO).files if f.is_lfs)
        ca = str(hub.ca_path)
        env = {
            **os.environ,
            "HF_ENDPOINT": hub.url,
            "SSL_CERT_FILE": ca,
            "REQUESTS_CA_BUNDLE": ca,
            "CURL_CA_BUNDLE": ca,
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HOME": str(tmp_path / "hf_home"),
        }
        for name in ("HF_HUB_OFFLINE", "HF_TOKEN"):
            env.pop(name, None)
        code = (
            "import sys, huggingface_hub as hf\n"
            f"print(hf.hf_hub_download({REPO!r}, {entry.path!r}, cache_dir=sys.argv[1],"
            " token=False))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "cache")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        local = Path(done.stdout.strip().splitlines()[-1])
        assert hashlib.sha256(local.read_bytes()).hexdigest() == sha
        assert hub.resolve_count() >= 1 and hub.new_connections("cdn") >= 1
        assert any(r.host == "cdn" and r.status == 200 for r in hub.request_log)
