"""Auto-publish: a service with MODELWARD_MIRRORS and MODELWARD_MIRROR_PUBLISH=1 that pulls
a model from the hub pushes it to the mirror on its own, and says so in its audit log."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelward.devhub import DevHub
from modelward.events import Event, EventType
from modelward.mirror.inspect import verify_mirror
from modelward.runtime import Runtime
from modelward.sources.bucket import MirrorBucket
from tests.cli.conftest import stop_services_under, store_env
from tests.conftest import TI2V, TI2V_REPO
from tests.mirror.conftest import mirror_settings
from tests.s3 import S3Server


@pytest.fixture
def service_env(
    tmp_path: Path, threaded_hub: DevHub, s3_server: S3Server, mirror_url: str
) -> Iterator[dict[str, str]]:
    """A ``modelward serve`` running with the mirror and auto-publish on; its environment."""
    env = store_env(tmp_path, threaded_hub.url) | s3_server.env()
    env |= {"MODELWARD_MIRRORS": mirror_url, "MODELWARD_MIRROR_PUBLISH": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelward", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not (tmp_path / "home" / "service.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
        time.sleep(0.05)
    try:
        yield env
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        stop_services_under(tmp_path)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelward", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_service_publishes_what_it_pulled(
    service_env: dict[str, str], threaded_hub: DevHub, bucket: MirrorBucket
) -> None:
    upstream = threaded_hub.manifest(TI2V_REPO)
    pulled = _run(service_env, "pull", TI2V)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr

    deadline = time.monotonic() + 60
    while bucket.read_ref(TI2V_REPO, "main") is None:  # the ref is written last
        assert time.monotonic() < deadline, "the service never published the model"
        time.sleep(0.2)
    assert bucket.manifests() == [(TI2V_REPO, upstream.commit)]
    assert dict(bucket.blobs()) == {f.etag: f.size for f in upstream.files}
    assert verify_mirror(bucket, full=True).ok

    audit = _run(service_env, "audit", "--json")
    assert audit.returncode == 0, audit.stderr
    found = json.loads(audit.stdout)
    entries = found["entries"] if isinstance(found, dict) else found
    pushes = [e for e in entries if e["action"] == "mirror.push"]
    assert [(e["actor"], e["model_id"], e["outcome"]) for e in pushes] == [
        ("automation", TI2V, "ok")
    ]


async def test_a_failed_publish_never_fails_the_download(
    tmp_path: Path, hub: DevHub, s3_server: S3Server, s3_env: dict[str, str]
) -> None:
    settings = mirror_settings(
        tmp_path, hub, s3_server, mirrors=("s3://no-such-bucket-here/hf",), mirror_publish=True
    )
    async with Runtime(settings) as rt:
        seen: list[Event] = []
        rt.bus.subscribe(lambda e: seen.append(e) if e.type.startswith("mirror.") else None)
        rt.publisher.start()
        assert (await rt.downloader.download_with_retry(TI2V)).success
        deadline = time.monotonic() + 30
        while not seen:
            assert time.monotonic() < deadline, "auto-publish never reported"
            await asyncio.sleep(0.05)
        assert (await rt.availability.status(TI2V)).is_available
    (failed,) = seen
    assert failed.type == EventType.MIRROR_PUBLISH_FAILED and failed.model_id == TI2V
    assert failed.data["code"] == "mirror-error" and "Create the bucket" in failed.data["hint"]
