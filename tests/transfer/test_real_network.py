"""Transfers as the real Hub serves them (issue 17), over real sockets: HTTPS on the hub and
on a separate CDN host, a round trip charged per connection and per request, signed CDN URLs
that expire. One file of many segments is resolved once (again only when its URL expires),
its segments share kept connections, and new connections resume the TLS session."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from modelward.catalog import Catalog, load_catalog
from modelward.devhub import DevHub, Fault, FaultPlan, Manners, RequestRecord
from modelward.runtime import Runtime
from modelward.store import RepoLayout
from modelward.transfer import DownloadResult
from tests.conftest import (
    TI2V,
    TI2V_REPO,
    assert_store_invariants,
    make_settings,
    serving,
    sha256_of,
)

FILE = "text_encoder/model-00001-of-00001.safetensors"
"""The largest file of the tiny TI2V repo (about 2 MB): 31 segments of ``SEGMENT``."""
MODEL = "one-file"
SEGMENT = 64 * 1024  # the smallest segment the settings allow
CONNECTIONS = 4
RTT_S = 0.02


def _one_file_catalog(tmp_path: Path) -> Catalog:
    """The built-in catalog plus an entry that selects ``FILE`` alone."""
    extra = tmp_path / "one-file.toml"
    extra.write_text(
        f'[models.{MODEL}]\nrepo = "{TI2V_REPO}"\nrevision = "main"\ninclude = ["{FILE}"]\n'
    )
    return load_catalog([extra], env={})


@pytest.fixture
async def one_file(tmp_path: Path, wan_hub: DevHub) -> AsyncIterator[Runtime]:
    """A runtime on ``wan_hub`` with small segments and ``CONNECTIONS`` connections."""
    async with _runtime(tmp_path, wan_hub) as runtime:
        yield runtime


def _runtime(tmp_path: Path, hub: DevHub, **overrides: object) -> Runtime:
    values: dict[str, object] = {
        "segment_bytes": SEGMENT,
        "connections": CONNECTIONS,
        "connections_per_file": CONNECTIONS,
    }
    settings = make_settings(tmp_path, hub.url, **(values | overrides))
    return Runtime(settings, _one_file_catalog(tmp_path))


def _file_gets(hub: DevHub) -> list[RequestRecord]:
    """The CDN's answers that carried ``FILE``'s bytes."""
    sha = hub.manifest(TI2V_REPO).file(FILE).content_sha256
    return [r for r in hub.request_log if r.host == "cdn" and sha in r.path and r.status == 206]


def _file_resolves(hub: DevHub) -> list[RequestRecord]:
    return [r for r in hub.request_log if "/resolve/" in r.path and r.path.endswith(FILE)]


def _new_cdn_connections(hub: DevHub) -> list[RequestRecord]:
    """The first request of each connection to the CDN, oldest first."""
    return [r for r in hub.request_log if r.host == "cdn" and r.new_connection]


def _check_verified(hub: DevHub, runtime: Runtime, result: DownloadResult) -> None:
    assert result.success, (result.error_code, result.error_message)
    manifest = hub.manifest(TI2V_REPO)
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    entry = manifest.file(FILE)
    path = layout.snapshot_path(manifest.commit, entry.path)
    assert sha256_of(path) == entry.content_sha256
    assert_store_invariants(runtime.settings.cache_dir)


async def _log_settled() -> None:
    # The hub logs a request once its answer is sent, a moment after the client has it.
    await asyncio.sleep(0.3)


async def _wait_for_bytes(runtime: Runtime, at_least: int) -> None:
    deadline = time.monotonic() + 30
    while (await runtime.downloader.get_download_progress(MODEL)).downloaded_bytes < at_least:
        assert time.monotonic() < deadline, "the download made no progress"
        await asyncio.sleep(0.02)


async def test_a_file_of_many_segments_is_resolved_once_over_kept_connections(
    wan_hub: DevHub, one_file: Runtime
) -> None:
    result = await one_file.downloader.download_with_retry(MODEL)
    _check_verified(wan_hub, one_file, result)
    await _log_settled()
    size = wan_hub.manifest(TI2V_REPO).file(FILE).size
    gets = _file_gets(wan_hub)
    assert len(gets) >= size // SEGMENT and sum(r.bytes_sent for r in gets) == size
    assert len(_file_resolves(wan_hub)) == 1, [r.path for r in wan_hub.request_log]
    # Each connection carries many segments: new connections stay within the limit.
    opened = wan_hub.new_connections("cdn")
    assert opened <= CONNECTIONS, [(r.connection_id, r.range) for r in gets]
    assert len(gets) >= 5 * opened
    assert len({r.connection_id for r in gets}) == opened
    assert result.total_retries == 0


async def test_a_new_connection_resumes_the_tls_session(wan_hub: DevHub, tmp_path: Path) -> None:
    # One connection, cut once mid-file after earlier segments handed it back: the one that
    # replaces it must resume the CDN's TLS session instead of a full handshake.
    async with _runtime(
        tmp_path, wan_hub, connections_per_file=1, bandwidth_limit_bytes_per_s=1_000_000
    ) as runtime:
        await runtime.downloader.start_download(MODEL)
        await _wait_for_bytes(runtime, 3 * SEGMENT)
        wan_hub.set_faults(FaultPlan([Fault.drop(1000, path_glob="/cdn-lfs/*", times=1)]))
        result = await runtime.downloader.wait_for_completion(MODEL)
        _check_verified(wan_hub, runtime, result)
    await _log_settled()
    assert any("drop" in r.faults for r in wan_hub.request_log), "the drop never fired"
    opened = _new_cdn_connections(wan_hub)
    assert len(opened) >= 2
    assert [r.tls_resumed for r in opened] == [False] + [True] * (len(opened) - 1)
    assert len(_file_resolves(wan_hub)) == 1  # a dropped connection leaves the URL valid


async def test_an_expiring_cdn_url_is_renewed_mid_file_without_refetching(
    hub_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # URLs valid for 2-3 s (the hub rounds the expiry up to a second), a file capped to take
    # about 4 s: the engine must resolve again before each URL expires, or on the CDN's 403.
    ttl = 2.0
    manners = Manners(tls=True, rtt_s=RTT_S, cdn_url_ttl_s=ttl)
    async with serving(hub_root, manners, monkeypatch) as hub:
        async with _runtime(tmp_path, hub, bandwidth_limit_bytes_per_s=500_000) as runtime:
            started = time.monotonic()
            result = await runtime.downloader.download_with_retry(MODEL)
            took = time.monotonic() - started
            _check_verified(hub, runtime, result)
        await _log_settled()
        size = hub.manifest(TI2V_REPO).file(FILE).size
        assert took > ttl + 1, f"the file took {took:.1f} s: no URL expired under way"
        resolves = len(_file_resolves(hub))
        # A URL is renewed once a quarter of its life is left: each lasts 1.5 s or more.
        assert 2 <= resolves <= 2 + math.ceil(took / (0.75 * ttl)), (resolves, took)
        sent = sum(r.bytes_sent for r in _file_gets(hub))
        assert size <= sent <= size + SEGMENT * CONNECTIONS, (sent, size)
        assert result.total_retries == 0  # an expired URL is no failure


@pytest.mark.parametrize("refusal", [403, 400, 404])
async def test_a_kept_url_the_cdn_refuses_is_resolved_again_at_no_cost(
    wan_hub: DevHub, tmp_path: Path, refusal: int
) -> None:
    # A CDN URL revoked before its stated expiry (CloudFront's 403; a store's 400 for an
    # expired signature; a 404 for a moved object): one resolve, no retry and no byte.
    async with _runtime(tmp_path, wan_hub, bandwidth_limit_bytes_per_s=1_000_000) as runtime:
        await runtime.downloader.start_download(MODEL)
        await _wait_for_bytes(runtime, 3 * SEGMENT)
        fault = Fault.http_status(refusal, path_glob="/cdn-lfs/*", times=1)
        wan_hub.set_faults(FaultPlan([fault]))
        result = await runtime.downloader.wait_for_completion(MODEL)
        _check_verified(wan_hub, runtime, result)
    await _log_settled()
    assert [r.status for r in wan_hub.request_log if r.host == "cdn"].count(refusal) == 1
    assert len(_file_resolves(wan_hub)) == 2
    size = wan_hub.manifest(TI2V_REPO).file(FILE).size
    assert sum(r.bytes_sent for r in _file_gets(wan_hub)) == size
    assert result.total_retries == 0


async def test_the_hub_is_trusted_only_through_ssl_cert_file(
    wan_hub: DevHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the CA the pull fails at once, saying what to set; with it (wan_hub set it)
    # the same store pulls the model.
    monkeypatch.delenv("SSL_CERT_FILE")
    async with Runtime(make_settings(tmp_path, wan_hub.url)) as runtime:
        refused = await runtime.downloader.download_with_retry(TI2V, max_retries=3)
    assert not refused.success and refused.total_retries == 0, refused
    assert "certificate" in (refused.error_message or "").lower(), refused.error_message
    assert "SSL_CERT_FILE" in (refused.error_hint or ""), refused.error_hint
    assert wan_hub.ca_path is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(wan_hub.ca_path))
    async with Runtime(make_settings(tmp_path, wan_hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
