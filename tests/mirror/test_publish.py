"""Publishing a pulled model to a real S3 server (SeaweedFS): only what the mirror lacks is
uploaded, blobs shared by versions are stored once, and nothing unverified leaves."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from modelward.devhub import DevHub
from modelward.errors import MirrorError
from modelward.mirror.publish import PublishResult, publish_model
from modelward.runtime import Runtime
from modelward.sources.bucket import MirrorBucket
from modelward.store.records import load_block_table
from tests.conftest import TI2V, TI2V_REPO
from tests.mirror.conftest import mirror_settings
from tests.s3 import S3Server


async def _publish(
    rt: Runtime, url: str, model_id: str = TI2V, publisher: str = "gpu-1", **kw: object
) -> PublishResult:
    mirror = MirrorBucket.at(url, rt.settings.s3_endpoint_url)
    return await asyncio.to_thread(
        publish_model, mirror, rt.manager, model_id, publisher=publisher, **kw
    )


async def test_push_uploads_each_blob_once_then_nothing(
    pulled: Runtime, hub: DevHub, bucket: MirrorBucket, mirror_url: str
) -> None:
    upstream = hub.manifest(TI2V_REPO)
    blobs = {f.etag: f.size for f in upstream.files}
    total = sum(blobs.values())
    seen: list[tuple[int, int]] = []

    first = await _publish(pulled, mirror_url, on_progress=lambda d, t: seen.append((d, t)))
    assert (first.blobs_uploaded, first.bytes_sent, first.bytes_skipped) == (len(blobs), total, 0)
    assert first.files == len(upstream.files) and first.commit == upstream.commit
    assert dict(bucket.blobs()) == blobs  # every blob, once, at its size
    assert seen[-1] == (total, total)

    manifest = bucket.read_manifest(TI2V_REPO, upstream.commit)
    assert manifest is not None and manifest.published_by == "gpu-1"
    assert {e.file.path: e.file.size_bytes for e in manifest.files} == {
        f.path: f.size for f in upstream.files
    }
    layout = pulled.manager.layout(TI2V)
    for entry in manifest.files:
        table = load_block_table(layout, entry.file.blob_name)
        assert (entry.blocks.hashes if entry.blocks else None) == (table.hashes if table else None)
    assert any(e.blocks for e in manifest.files)
    assert bucket.read_ref(TI2V_REPO, "main") == upstream.commit

    again = await _publish(pulled, mirror_url, publisher="gpu-2")
    assert (again.blobs_uploaded, again.bytes_sent, again.bytes_skipped) == (0, 0, total)
    # Nothing changed, so nothing was written: the manifest still names its first publisher.
    assert bucket.read_manifest(TI2V_REPO, upstream.commit) == manifest


async def test_a_blob_changed_on_disk_is_not_published(
    pulled: Runtime, bucket: MirrorBucket, mirror_url: str
) -> None:
    target = pulled.manager.known_target(TI2V)
    assert target is not None
    shard = max(target.files, key=lambda f: f.size_bytes)
    blob = pulled.manager.layout(TI2V).blob_path(shard.blob_name)
    os.utime(blob, ns=(0, 0))  # its stat no longer matches its verification record

    with pytest.raises(MirrorError, match=shard.path) as caught:
        await _publish(pulled, mirror_url)
    assert "verified" in caught.value.message
    assert list(bucket.blobs()) == [] and bucket.manifests() == []


async def test_a_model_not_pulled_is_refused(
    tmp_path: Path, hub: DevHub, s3_server: S3Server, s3_env: dict[str, str], mirror_url: str
) -> None:
    async with Runtime(mirror_settings(tmp_path, hub, s3_server)) as rt:
        with pytest.raises(MirrorError, match="no complete version") as caught:
            await _publish(rt, mirror_url)
    assert "Pull the model first" in caught.value.hint


async def test_two_versions_store_their_shared_blobs_once(
    tmp_path: Path,
    hub: DevHub,
    s3_server: S3Server,
    s3_env: dict[str, str],
    bucket: MirrorBucket,
    mirror_url: str,
) -> None:
    old = hub.manifest(TI2V_REPO)
    new = hub.manifest(TI2V_REPO, hub.bump_commit(TI2V_REPO))
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        f'[models.ti2v-old]\nrepo = "{TI2V_REPO}"\nrevision = "{old.commit}"\n', encoding="utf-8"
    )
    settings = mirror_settings(tmp_path, hub, s3_server, catalog_files=(catalog,))
    async with Runtime(settings) as rt:
        for model_id in ("ti2v-old", TI2V):
            assert (await rt.downloader.download_with_retry(model_id)).success
        first = await _publish(rt, mirror_url, "ti2v-old")
        second = await _publish(rt, mirror_url, TI2V)

    old_blobs = {f.etag: f.size for f in old.files}
    new_blobs = {f.etag: f.size for f in new.files}
    shared = old_blobs.keys() & new_blobs.keys()
    assert shared and len(shared) < len(new_blobs)
    assert first.bytes_sent == sum(old_blobs.values())
    assert second.bytes_sent == sum(s for b, s in new_blobs.items() if b not in shared)
    assert second.bytes_skipped == sum(new_blobs[b] for b in shared)
    assert dict(bucket.blobs()) == old_blobs | new_blobs  # each shared blob once
    assert sorted(bucket.manifests()) == sorted([(TI2V_REPO, old.commit), (TI2V_REPO, new.commit)])
    assert bucket.read_ref(TI2V_REPO, "main") == new.commit
