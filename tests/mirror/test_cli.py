"""``modelward mirror push`` as a user runs it: killed with SIGKILL mid-upload, a rerun
continues from what is in the bucket; bad input exits 2 with what to do, never a traceback;
every push is in the audit log."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelward.db import Database
from modelward.devhub import DevHub
from modelward.devhub.shapes import TI2V_5B
from modelward.mirror.inspect import verify_mirror
from modelward.mirror.publish import PART_BYTES_ENV
from modelward.ops.audit import AuditLog
from modelward.runtime import Runtime
from modelward.sources.bucket import MirrorBucket
from tests.cli.conftest import store_env
from tests.conftest import TI2V, TI2V_REPO
from tests.mirror.conftest import mirror_settings
from tests.mirror.throttle import throttled
from tests.s3 import S3Server

MiB = 1024 * 1024
PART_BYTES = 5 * MiB  # the smallest part S3 (and SeaweedFS) accept


@pytest.fixture
def big_hub(hub_root: Path) -> Iterator[DevHub]:
    """A hub whose largest shards take six 5 MiB parts (four go up at once)."""
    with DevHub(root=hub_root, scale="150MB", repos=[TI2V_5B]).running_in_thread() as server:
        yield server


def _env(tmp_path: Path, hub: DevHub, s3_server: S3Server) -> dict[str, str]:
    return store_env(tmp_path, hub.url) | s3_server.env() | {"COLUMNS": "200"}


def _mirror(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelward", "mirror", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _parts_bytes(bucket: MirrorBucket) -> int:
    """Bytes in the parts of the bucket's unfinished multipart uploads."""
    client, name = bucket.client, bucket.address.bucket
    found = 0
    for upload in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
        parts = client.list_parts(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
        found += sum(int(p["Size"]) for p in parts.get("Parts", []))
    return found


async def test_kill_9_mid_push_then_a_rerun_sends_only_the_rest(
    tmp_path: Path,
    big_hub: DevHub,
    s3_server: S3Server,
    s3_env: dict[str, str],
    bucket: MirrorBucket,
) -> None:
    async with Runtime(mirror_settings(tmp_path, big_hub, s3_server)) as rt:
        assert (await rt.downloader.download_with_retry(TI2V)).success
    upstream = big_hub.manifest(TI2V_REPO)
    total = sum({f.etag: f.size for f in upstream.files}.values())
    env = _env(tmp_path, big_hub, s3_server) | {PART_BYTES_ENV: str(PART_BYTES)}

    with throttled(s3_server.endpoint_url, 8_000_000) as slow:
        first = subprocess.Popen(
            [sys.executable, "-m", "modelward", "mirror", "push", TI2V, "--to", str(bucket)],
            env=env | {"AWS_ENDPOINT_URL": slow},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while _parts_bytes(bucket) == 0:  # a multipart upload is under way
            assert first.poll() is None, first.stdout.read() if first.stdout else ""
            assert time.monotonic() < deadline, "the push never got a part into the bucket"
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
    time.sleep(0.5)  # let the store settle what reached it before the kill
    assert bucket.manifests() == []  # the manifest comes last
    in_bucket = sum(size for _, size in bucket.blobs())
    in_parts = _parts_bytes(bucket)
    assert in_parts > 0

    rerun = _mirror(env, "push", TI2V, "--to", str(bucket), "--json")
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    assert result["bytes_sent"] < total
    assert result["bytes_resumed"] == in_parts  # the parts the killed run left
    assert result["bytes_skipped"] == in_bucket  # the blobs it finished
    assert result["bytes_sent"] == total - in_bucket - result["bytes_resumed"]
    assert bucket.manifests() == [(TI2V_REPO, upstream.commit)]
    assert verify_mirror(bucket, full=True).ok
    assert _parts_bytes(bucket) == 0


def _said(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


async def test_bad_input_exits_2_with_the_next_step(
    pulled: Runtime, hub: DevHub, s3_server: S3Server, tmp_path: Path, mirror_url: str
) -> None:
    env = _env(tmp_path, hub, s3_server)

    no_mirror = _mirror(env, "push", TI2V)
    assert no_mirror.returncode == 2 and "MODELWARD_MIRRORS" in _said(no_mirror)
    unknown = _mirror(env, "push", "no-such-model", "--to", mirror_url)
    assert unknown.returncode == 2 and "model-unknown" in _said(unknown)
    bad = _mirror(env, "push", TI2V, "--to", "https://example.com/x")
    assert bad.returncode == 2 and "s3://BUCKET/PREFIX" in _said(bad)
    never_pulled = _mirror(env, "push", "t2v-a14b", "--to", mirror_url)
    assert never_pulled.returncode == 2 and "Pull the model first" in _said(never_pulled)
    no_bucket = _mirror(env, "push", TI2V, "--to", "s3://no-such-bucket-here/hf")
    assert no_bucket.returncode == 2 and "Create the bucket" in _said(no_bucket)
    anonymous = {k: v for k, v in env.items() if not k.startswith("AWS_ACCESS_KEY_ID")}
    no_keys = _mirror(anonymous | {"MODELWARD_MIRRORS": mirror_url}, "list")
    assert no_keys.returncode == 2 and "AWS_ACCESS_KEY_ID" in _said(no_keys)

    pushed = _mirror(env | {"MODELWARD_MIRRORS": mirror_url}, "push", TI2V)
    assert pushed.returncode == 0, pushed.stderr
    assert "pushed ti2v-5b" in pushed.stdout and " MB sent" in pushed.stdout
    db = Database(pulled.settings.effective_database_url)
    try:
        entries = AuditLog(db).query(action="mirror.push")
    finally:
        db.close()
    outcomes = [(e.model_id, e.outcome, e.params.get("mirror")) for e in reversed(entries)]
    assert outcomes == [  # what was refused is recorded too, never as done
        ("t2v-a14b", "failed", mirror_url),
        (TI2V, "failed", "s3://no-such-bucket-here/hf"),
        (TI2V, "ok", mirror_url),
    ]
    assert all(e.actor.startswith("cli:") for e in entries)


def test_push_draws_a_bar_on_a_terminal_and_prints_one_line(
    pulled: Runtime, hub: DevHub, s3_server: S3Server, tmp_path: Path, mirror_url: str
) -> None:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "modelward", "mirror", "push", TI2V, "--to", mirror_url],
            env=_env(tmp_path, hub, s3_server),
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
        )
    finally:
        os.close(follower)
        drawn = _drain(leader).decode(errors="replace")
    assert proc.returncode == 0, drawn
    assert f"{TI2V} → mirror" in drawn and "MB" in drawn  # the bar, on stderr
    (line,) = proc.stdout.splitlines()  # stdout: the summary alone
    assert line.startswith(f"pushed {TI2V} ({TI2V_REPO}@") and "already there" in line


def _drain(fd: int) -> bytes:
    seen = b""
    with contextlib.suppress(OSError):  # the terminal's other end is closed: all is read
        while chunk := os.read(fd, 65536):
            seen += chunk
    os.close(fd)
    return seen
