"""Pulls through a team mirror on a real S3 server (SeaweedFS) in front of the local hub:
bytes from the mirror, verified against the Hub's checksums; a bad mirror copy is refused,
fetched from the hub and reported; with the hub down or offline mode on, the mirror's
manifest is the metadata and the download says so."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from modelward.devhub import DevHub
from modelward.events import Event, EventType
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.sources.bucket import Manifest, ManifestFile, MirrorAddress, MirrorBucket
from modelward.sources.bucket.upload import upload_blob
from modelward.transfer import DownloadStatus
from tests.conftest import (
    TI2V,
    TI2V_REPO,
    assert_store_invariants,
    hub_file_bytes,
    make_settings,
    sha256_of,
)
from tests.s3 import S3Server


@pytest.fixture
def mirror(s3_server: S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> MirrorBucket:
    """A team mirror on the test's own bucket; boto3 in this process is pointed at it."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return MirrorBucket(MirrorAddress(s3_bucket, "team/hf"), s3_server.client())


@pytest.fixture
async def published(tmp_path: Path, hub: DevHub, mirror: MirrorBucket) -> Manifest:
    """ti2v-5b pulled from the hub by one node and published to the mirror by hand."""
    settings = make_settings(tmp_path / "publisher", hub.url)
    async with Runtime(settings) as runtime:
        result = await runtime.downloader.download_with_retry(TI2V)
        assert result.success, result.error_message
        target = runtime.manager.known_target(TI2V)
        assert target is not None
        layout = runtime.manager.repo_layout(TI2V_REPO)
        for file in target.files:
            upload_blob(mirror, layout.blob_path(file.blob_name), file.blob_name)
    manifest = Manifest(TI2V_REPO, target.commit, tuple(ManifestFile(f) for f in target.files))
    mirror.write_manifest(manifest)
    mirror.write_ref(TI2V_REPO, "main", target.commit)
    hub.clear_log()
    return manifest


def _node(tmp_path: Path, endpoint: str, mirror: MirrorBucket, **more: object) -> Settings:
    endpoint_url = os.environ["AWS_ENDPOINT_URL"]
    return make_settings(
        tmp_path / "node",
        endpoint,
        mirrors=(str(mirror.address),),
        s3_endpoint_url=endpoint_url,
        **more,
    )


async def _pull(settings: Settings) -> tuple[Runtime, list[Event]]:
    events: list[Event] = []
    async with Runtime(settings) as runtime:
        runtime.bus.subscribe(events.append)
        result = await runtime.downloader.download_with_retry(TI2V)
        assert result.success, result.error_message
        assert result.integrity_verified
    return runtime, events


def _assert_installed(settings: Settings, manifest: Manifest) -> None:
    snapshot = settings.cache_dir / f"models--{TI2V_REPO.replace('/', '--')}" / "snapshots"
    for entry in manifest.files:
        path = snapshot / manifest.commit / entry.file.path
        if entry.file.sha256 is not None:
            assert sha256_of(path) == entry.file.sha256, entry.file.path
        assert path.stat().st_size == entry.file.size_bytes
    assert_store_invariants(settings.cache_dir)


async def test_a_pull_takes_every_file_from_the_mirror(
    tmp_path: Path, hub: DevHub, mirror: MirrorBucket, published: Manifest
) -> None:
    settings = _node(tmp_path, hub.url, mirror)
    _, events = await _pull(settings)
    _assert_installed(settings, published)
    assert hub_file_bytes(hub) == 0
    assert any("/api/models/" in r.path for r in hub.request_log)  # the Hub's metadata
    started = next(e for e in events if e.type == EventType.DOWNLOAD_STARTED)
    assert started.data["metadata_from"] == "the Hub"
    assert not [e for e in events if e.type == EventType.MIRROR_BAD_COPY]


async def test_a_tampered_mirror_object_is_refused_fetched_from_the_hub_and_reported(
    tmp_path: Path, hub: DevHub, mirror: MirrorBucket, published: Manifest
) -> None:
    victim = max(published.files, key=lambda f: f.file.size_bytes).file
    key = mirror.address.blob_key(victim.blob_name)
    mirror.client.put_object(
        Bucket=mirror.address.bucket, Key=key, Body=os.urandom(victim.size_bytes)
    )
    settings = _node(tmp_path, hub.url, mirror)
    _, events = await _pull(settings)
    _assert_installed(settings, published)
    bad = [e.data for e in events if e.type == EventType.MIRROR_BAD_COPY]
    assert [(b["path"], b["blob_name"]) for b in bad] == [(victim.path, victim.blob_name)]
    assert "does not match" in str(bad[0]["reason"])
    # Only the refused file came from the hub, once.
    assert hub_file_bytes(hub) == victim.size_bytes


async def test_a_truncated_mirror_object_is_never_read(
    tmp_path: Path, hub: DevHub, mirror: MirrorBucket, published: Manifest
) -> None:
    victim = max(published.files, key=lambda f: f.file.size_bytes).file
    key = mirror.address.blob_key(victim.blob_name)
    mirror.client.put_object(Bucket=mirror.address.bucket, Key=key, Body=b"short")
    settings = _node(tmp_path, hub.url, mirror)
    _, events = await _pull(settings)
    _assert_installed(settings, published)
    bad = [e.data for e in events if e.type == EventType.MIRROR_BAD_COPY]
    assert len(bad) == 1 and f"not the {victim.size_bytes} expected" in str(bad[0]["reason"])
    assert hub_file_bytes(hub) == victim.size_bytes


async def test_with_the_hub_down_the_mirror_manifest_is_the_metadata_and_progress_says_so(
    tmp_path: Path, hub: DevHub, mirror: MirrorBucket, published: Manifest
) -> None:
    settings = _node(tmp_path, "http://127.0.0.1:9", mirror, max_retries=0)
    runtime, events = await _pull(settings)
    _assert_installed(settings, published)
    started = next(e for e in events if e.type == EventType.DOWNLOAD_STARTED)
    assert started.data["metadata_from"] == f"the mirror {mirror.address} (the Hub: unreachable)"
    progress = await runtime.downloader.get_download_progress(TI2V)
    assert progress.metadata_from == started.data["metadata_from"]


async def test_offline_mode_still_uses_the_team_mirror(
    tmp_path: Path, hub: DevHub, mirror: MirrorBucket, published: Manifest
) -> None:
    settings = _node(tmp_path, hub.url, mirror, offline=True)
    _, events = await _pull(settings)
    _assert_installed(settings, published)
    assert hub.request_log == []
    started = next(e for e in events if e.type == EventType.DOWNLOAD_STARTED)
    assert "offline mode" in str(started.data["metadata_from"])


async def test_a_mirror_pull_is_capped_paused_and_resumed_like_any_other(
    tmp_path: Path, hub: DevHub, mirror: MirrorBucket, published: Manifest
) -> None:
    settings = _node(tmp_path, hub.url, mirror, bandwidth_limit_bytes_per_s=1_000_000)
    async with Runtime(settings) as runtime:
        downloader = runtime.downloader
        started = asyncio.get_running_loop().time()
        await downloader.start_download(TI2V)
        while (await downloader.get_download_progress(TI2V)).downloaded_bytes < 1_000_000:
            await asyncio.sleep(0.05)
        assert await downloader.pause_download(TI2V)
        paused = await downloader.get_download_progress(TI2V)
        assert paused.status is DownloadStatus.PAUSED
        assert 0 < paused.downloaded_bytes < paused.total_bytes
        await asyncio.sleep(0.5)
        assert await downloader.resume_download(TI2V)
        result = await downloader.wait_for_completion(TI2V)
        elapsed = asyncio.get_running_loop().time() - started
    assert result.success, result.error_message
    _assert_installed(settings, published)
    assert hub_file_bytes(hub) == 0
    total = sum(f.file.size_bytes for f in published.files)
    # The cap held: the bytes took at least their time at 1 MB/s (less what a burst allows).
    assert elapsed >= total / 1_000_000 - 1.5
    # Resumed, not restarted: no more than the model and a segment per connection came.
    assert result.bytes_fetched <= total + 8 * settings.segment_bytes
