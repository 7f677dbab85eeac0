"""``modelward repair`` killed with SIGKILL at several points never leaves the served
snapshot with a dangling link, and the next run finishes the repair (finding 7)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import huggingface_hub
import pytest

from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.devhub.manifest import ManifestFile
from modelward.health import Quarantine, RepairResult, VerifyLevel
from modelward.runtime import Runtime
from modelward.store import RepoLayout
from modelward.store.records import load_partial
from tests.cli.conftest import stop_services_under, store_env
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, make_settings, sha256_of


def _env(tmp_path: Path, hub: DevHub) -> dict[str, str]:
    return store_env(tmp_path, hub.url) | {"MODELWARD_SEGMENT_BYTES": str(64 * 1024)}


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelward", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


class Served:
    """What a program using the Hub cache would see of the model, checked on demand."""

    def __init__(self, tmp_path: Path, files: list[ManifestFile]) -> None:
        self.cache = tmp_path / "cache"
        self.files = files
        self.checks = 0

    def assert_whole(self) -> None:
        """Every file of the served snapshot is there: through its link and through
        huggingface_hub's offline lookup."""
        folder = Path(
            huggingface_hub.snapshot_download(
                TI2V_REPO, cache_dir=self.cache, local_files_only=True
            )
        )
        for f in self.files:
            path = folder / f.path
            assert os.path.isfile(path), f"{f.path} does not resolve: {os.readlink(path)}"
        self.checks += 1


def _kept(layout: RepoLayout, blob: str) -> int:
    record = load_partial(layout, blob)
    return sum(e - s for s, e in record.trusted_ranges()) if record else 0


def _kill_when(
    proc: subprocess.Popen[bytes],
    home: Path,
    served: Served,
    ready: Callable[[], bool],
    what: str,
) -> None:
    """Watch the store while ``ready()`` is false, then SIGKILL the service doing the
    repair (and the CLI waiting on it). The CLI waits all along: a restarted service
    resumes an interrupted repair's download from its queue, and a repair asked for
    meanwhile follows that download."""
    deadline = time.monotonic() + 60
    while not ready():
        served.assert_whole()
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else b""
            raise AssertionError(f"the repair ended before {what}: {out.decode()}")
        assert time.monotonic() < deadline, f"the repair never reached: {what}"
        time.sleep(0.01)
    pid = json.loads((home / "service.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    proc.kill()
    proc.wait(10)
    served.assert_whole()


async def test_kill_9_during_repair_never_leaves_a_dangling_link(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    env, home = _env(tmp_path, threaded_hub), tmp_path / "home"
    settings = make_settings(tmp_path, threaded_hub.url)
    manifest = threaded_hub.manifest(TI2V_REPO)
    big, cut = sorted((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)[-1:-3:-1]
    layout = RepoLayout(settings.cache_dir, home, TI2V_REPO)
    served = Served(tmp_path, list(manifest.files))
    async with Runtime(settings) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
    served.assert_whole()
    blob = layout.blob_path(big.etag)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:  # damage in the middle of the largest file
        fh.seek(big.size // 2)
        fh.write(b"\x00\xff" * 2048)
    # And one truncated without a block table: its prefix is copied beside it.
    layout.block_table_path(cut.etag).unlink()
    layout.blob_path(cut.etag).chmod(0o644)
    os.truncate(layout.blob_path(cut.etag), cut.size // 2)
    threaded_hub.set_faults(
        FaultPlan([Fault.rate(300_000, path_glob="*" + f.path) for f in (big, cut)])
    )
    try:
        # 1: as soon as a partial file exists.
        partials = [layout.incomplete_path(f.etag) for f in (big, cut)]
        first = _cli(env, "repair", TI2V)
        _kill_when(first, home, served, lambda: any(p.exists() for p in partials), "a partial")
        # 2: with a third of the largest file fetched (the restarted service resumes the
        # interrupted repair's download from its queue, or this repair does).
        second = _cli(env, "repair", TI2V)
        _kill_when(
            second,
            home,
            served,
            lambda: _kept(layout, big.etag) > big.size // 3,
            "a third of the file fetched",
        )
        assert sha256_of(blob) != big.etag  # still the damaged copy, still served
        threaded_hub.clear_faults()
        # The restarted service's queue finishes the repair; this one follows it.
        last = subprocess.run(
            [sys.executable, "-m", "modelward", "repair", TI2V],
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert last.returncode == 0, last.stdout.decode() + last.stderr.decode()
    finally:
        stop_services_under(tmp_path)
    for f in (big, cut):
        assert sha256_of(layout.blob_path(f.etag)) == f.etag
        assert not layout.incomplete_path(f.etag).exists()
    served.assert_whole()
    assert served.checks > 10
    assert_store_invariants(settings.cache_dir)
    async with Runtime(settings) as runtime:
        check = await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)
        assert check.is_healthy, check.issues


async def test_the_next_repair_goes_on_from_where_an_interrupted_one_stopped(
    hub: DevHub, runtime: Runtime
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    manifest = hub.manifest(TI2V_REPO)
    big = max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)
    layout = runtime.manager.layout(TI2V)
    blob = layout.blob_path(big.etag)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(big.size // 2)
        fh.write(b"\x00\xff" * 2048)
    hub.set_faults(FaultPlan([Fault.rate(300_000, path_glob="*" + big.path)]))
    first = asyncio.create_task(runtime.health.verify_and_repair_model(TI2V))
    deadline = time.monotonic() + 30
    while _kept(layout, big.etag) < big.size // 3:
        assert time.monotonic() < deadline and not first.done()
        await asyncio.sleep(0.01)
    await runtime.downloader.pause_download(TI2V)  # stopped mid-file, as a crash would
    assert not (await first).success
    kept = _kept(layout, big.etag)
    assert sha256_of(blob) != big.etag  # the damaged copy is still what is served
    assert os.path.isfile(layout.snapshot_path(manifest.commit, big.path))

    hub.clear_faults()
    hub.clear_log()
    result = await runtime.health.verify_and_repair_model(TI2V)
    assert result.success, (result.error_message, result.error_hint)
    sent = sum(r.bytes_sent for r in hub.request_log if big.etag in r.path and r.bytes_sent)
    assert sent == big.size - kept == result.plans[0].refetch_bytes
    assert len(runtime.health.quarantine.entries()) == 1  # the first repair's evidence
    assert sha256_of(blob) == big.etag


@pytest.mark.parametrize("wait", [True, False], ids=["wait", "background"])
async def test_a_repair_asked_for_after_a_restart_follows_the_restored_one(
    tmp_path: Path, hub: DevHub, wait: bool
) -> None:
    """After a restart that interrupted a repair, the restored queue finishes it; a repair
    asked for right then joins that download (not refused as racing with it) and reports
    it, and no byte is fetched twice."""
    settings = make_settings(tmp_path, hub.url)
    manifest = hub.manifest(TI2V_REPO)
    big = max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)
    async with Runtime(settings) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        layout = runtime.manager.layout(TI2V)
        blob = layout.blob_path(big.etag)
        blob.chmod(0o644)
        with blob.open("r+b") as fh:
            fh.seek(big.size // 2)
            fh.write(b"\x00\xff" * 2048)
        hub.set_faults(FaultPlan([Fault.rate(300_000, path_glob="*" + big.path)]))
        first = runtime.health.start_repair(TI2V)
        deadline = time.monotonic() + 30
        while _kept(layout, big.etag) < big.size // 3:
            assert time.monotonic() < deadline and not first.done()
            await asyncio.sleep(0.01)
    # The service stopped mid-repair: the queue keeps its download for the next start.
    kept = _kept(layout, big.etag)
    assert sha256_of(blob) != big.etag
    hub.clear_faults()
    hub.clear_log()
    async with Runtime(settings) as runtime:
        await runtime.restore()
        assert runtime.downloader.is_running(TI2V)  # the restored queue finishes the repair
        if wait:
            result = await runtime.health.verify_and_repair_model(TI2V)
        else:
            task = runtime.health.start_repair(TI2V)  # what the API's 202 answers
            assert TI2V in runtime.health.repairing
            result = await task
        assert isinstance(result, RepairResult)
        assert result.success, (result.error_message, result.error_hint)
        assert [p.path for p in result.plans] == [big.path]
        assert [i.path for i in result.issues_found] == [big.path]
        assert TI2V not in runtime.health.repairing
        check = await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)
        assert check.is_healthy, check.issues
    sent = [r for r in hub.request_log if big.etag in r.path and r.bytes_sent]
    assert sum(r.bytes_sent for r in sent) == big.size - kept == result.plans[0].refetch_bytes
    assert sha256_of(blob) == big.etag
    assert os.path.isfile(layout.snapshot_path(manifest.commit, big.path))
    assert len(Quarantine(settings.home, 10**12).entries()) == 1  # the first repair's evidence
