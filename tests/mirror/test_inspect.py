"""Listing, verifying and pruning a mirror on a real S3 server, in-process and as a user
runs ``modelward mirror``: damaged objects are found (only --full finds same-size tampering),
prune removes exactly what no manifest names."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelward.devhub import DevHub
from modelward.mirror.inspect import (
    ProblemKind,
    execute_prune,
    list_published,
    plan_prune,
    verify_mirror,
)
from modelward.mirror.publish import publish_model
from modelward.ops.audit import AuditLog
from modelward.runtime import Runtime
from modelward.sources.bucket import MirrorBucket
from tests.cli.conftest import store_env
from tests.conftest import TI2V, TI2V_REPO
from tests.s3 import S3Server


@pytest.fixture
async def published(pulled: Runtime, mirror_url: str) -> Runtime:
    """ti2v-5b pulled and published to the test's mirror."""
    mirror = MirrorBucket.at(mirror_url, pulled.settings.s3_endpoint_url)
    await asyncio.to_thread(publish_model, mirror, pulled.manager, TI2V, publisher="gpu-1")
    return pulled


def _cli(
    tmp_path: Path, hub: DevHub, s3_server: S3Server, *args: str
) -> subprocess.CompletedProcess[str]:
    env = store_env(tmp_path, hub.url) | s3_server.env() | {"COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "modelward", "mirror", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _put(bucket: MirrorBucket, blob_name: str, data: bytes) -> None:
    key = bucket.address.blob_key(blob_name)
    bucket.client.put_object(Bucket=bucket.address.bucket, Key=key, Body=data)


def _get(bucket: MirrorBucket, blob_name: str) -> bytes:
    key = bucket.address.blob_key(blob_name)
    return bucket.client.get_object(Bucket=bucket.address.bucket, Key=key)["Body"].read()


async def test_list_shows_each_commit_with_its_refs(
    published: Runtime, hub: DevHub, bucket: MirrorBucket, tmp_path: Path, s3_server: S3Server
) -> None:
    upstream = hub.manifest(TI2V_REPO)
    listing = list_published(bucket)
    assert [(c.repo_id, c.commit, c.refs) for c in listing.commits] == [
        (TI2V_REPO, upstream.commit, ("main",))
    ]
    (entry,) = listing.commits
    assert (entry.files, entry.size_bytes) == (len(upstream.files), upstream.total_size)
    assert entry.published_by == "gpu-1" and abs(entry.published_at - time.time()) < 120

    shown = _cli(tmp_path, hub, s3_server, "list", "--json", "--mirror", str(bucket))
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["commits"][0]["commit"] == upstream.commit
    table = _cli(tmp_path, hub, s3_server, "list", "--mirror", str(bucket))
    assert upstream.commit[:12] in table.stdout and "MB" in table.stdout


async def test_verify_finds_tampered_truncated_and_missing_objects(
    published: Runtime, hub: DevHub, bucket: MirrorBucket, tmp_path: Path, s3_server: S3Server
) -> None:
    upstream = hub.manifest(TI2V_REPO)
    assert verify_mirror(bucket, full=True).ok
    tampered, truncated, missing = sorted(upstream.files, key=lambda f: -f.size)[:3]
    original = _get(bucket, tampered.etag)
    _put(
        bucket,
        tampered.etag,
        original[:100] + bytes(b ^ 0xFF for b in original[100:200]) + original[200:],
    )
    _put(bucket, truncated.etag, _get(bucket, truncated.etag)[:-10])
    bucket.delete_keys([bucket.address.blob_key(missing.etag)])

    quick = verify_mirror(bucket)
    assert {(p.blob_name, p.kind) for p in quick.problems} == {
        (truncated.etag, ProblemKind.TRUNCATED),
        (missing.etag, ProblemKind.MISSING),
    }
    full = verify_mirror(bucket, full=True)
    found = {p.blob_name: p for p in full.problems}
    assert found[tampered.etag].kind is ProblemKind.CHECKSUM_MISMATCH
    assert set(found) == {tampered.etag, truncated.etag, missing.etag}
    assert all(p.manifests == (f"{TI2V_REPO}@{upstream.commit}",) for p in full.problems)

    said = _cli(tmp_path, hub, s3_server, "verify", "--full", "--mirror", str(bucket))
    assert said.returncode == 1, said.stderr
    assert "checksum-mismatch" in said.stdout and "truncated" in said.stdout
    assert "missing" in said.stdout and "next step" in said.stdout

    # Remove the bad objects, push again: the mirror is whole.
    fixed = _cli(
        tmp_path,
        hub,
        s3_server,
        "verify",
        "--full",
        "--remove-bad",
        "--json",
        "--mirror",
        str(bucket),
    )
    assert fixed.returncode == 1 and len(json.loads(fixed.stdout)["removed"]) == 2
    pushed = _cli(tmp_path, hub, s3_server, "push", TI2V, "--to", str(bucket), "--json")
    assert pushed.returncode == 0, pushed.stderr
    result = json.loads(pushed.stdout)
    assert result["blobs_uploaded"] == 3
    assert result["bytes_sent"] == tampered.size + truncated.size + missing.size
    assert verify_mirror(bucket, full=True).ok


async def test_prune_removes_only_what_no_manifest_names(
    published: Runtime, hub: DevHub, bucket: MirrorBucket, tmp_path: Path, s3_server: S3Server
) -> None:
    referenced = dict(bucket.blobs())
    stray = "f" * 64
    _put(bucket, stray, b"x" * 1000)
    key = bucket.address.blob_key("e" * 64)
    bucket.client.create_multipart_upload(Bucket=bucket.address.bucket, Key=key)

    # A stray blob younger than the grace period may be a push that has not written its
    # manifest yet; a young unfinished upload may still be going on.
    kept = plan_prune(bucket)
    assert (kept.blobs, kept.uploads, kept.kept_recent) == ((), (), 1)

    dry = _cli(
        tmp_path,
        hub,
        s3_server,
        "prune",
        "--dry-run",
        "--grace",
        "0s",
        "--json",
        "--mirror",
        str(bucket),
    )
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["blobs"] == [[stray, 1000]]
    assert dict(bucket.blobs()) == referenced | {stray: 1000}  # nothing deleted

    done = _cli(tmp_path, hub, s3_server, "prune", "--grace", "0s", "--mirror", str(bucket))
    assert done.returncode == 0, done.stderr
    assert "freed 1.00 kB" in done.stdout
    assert dict(bucket.blobs()) == referenced
    assert verify_mirror(bucket).ok

    # A day later the abandoned upload goes too.
    later = plan_prune(bucket, now=time.time() + 2 * 86400)
    assert [u.key for u in later.uploads] == [key]
    execute_prune(bucket, later)
    uploads = bucket.client.list_multipart_uploads(Bucket=bucket.address.bucket)
    assert not uploads.get("Uploads")

    entries = AuditLog(published.db).query(action="mirror.prune")
    assert [(e.outcome, e.actor.startswith("cli:")) for e in entries] == [("ok", True)]
    assert entries[0].params["blobs"] == 1
