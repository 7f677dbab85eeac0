"""Downloads from the local hub over real sockets into a real store on disk."""

from __future__ import annotations

import asyncio
import threading

import filelock

from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus, model_status
from modelward.store import RepoLayout
from modelward.transfer import DownloadStatus
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, sha256_of


def _biggest_lfs(hub: DevHub) -> str:
    manifest = hub.manifest(TI2V_REPO)
    return max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size).path


async def test_pull_fetches_every_file_verified_into_the_hf_layout(
    hub: DevHub, runtime: Runtime
) -> None:
    result = await runtime.downloader.download_with_retry(TI2V)
    assert result.success, result.error_message
    assert result.integrity_verified and result.final_status is DownloadStatus.COMPLETED
    manifest = hub.manifest(TI2V_REPO)
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    assert layout.ref_path("main").read_text() == manifest.commit
    snapshot = layout.snapshot_dir(manifest.commit)
    for f in manifest.files:
        assert sha256_of(snapshot / f.path) == f.content_sha256, f.path
    assert result.final_size_mb * 2**20 == manifest.total_size
    assert_store_invariants(runtime.settings.cache_dir)
    status = await model_status(runtime.downloader, TI2V)
    assert status.availability_status is ModelAvailabilityStatus.AVAILABLE
    assert status.local_path == str(snapshot) and status.missing_files == []


async def test_only_missing_files_are_fetched_again(hub: DevHub, runtime: Runtime) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    manifest = hub.manifest(TI2V_REPO)
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    victim = manifest.file("vae/diffusion_pytorch_model.safetensors")
    (layout.snapshot_dir(manifest.commit) / victim.path).unlink()
    layout.blob_path(victim.etag).unlink()
    hub.clear_log()
    status = await model_status(runtime.downloader, TI2V)
    assert status.missing_files == [victim.path]
    result = await runtime.downloader.download_with_retry(TI2V)
    assert result.success and result.bytes_fetched == victim.size
    fetched = {
        r.path
        for r in hub.request_log
        if r.method == "GET" and r.bytes_sent > 0 and "/api/" not in r.path
    }
    assert all(victim.sha256 in p or victim.path in p for p in fetched), fetched
    assert sha256_of(layout.snapshot_path(manifest.commit, victim.path)) == victim.content_sha256


async def test_wrong_bytes_are_never_promoted_and_a_retry_heals(
    hub: DevHub, runtime: Runtime
) -> None:
    big = _biggest_lfs(hub)
    entry = hub.manifest(TI2V_REPO).file(big)
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    hub.set_faults(FaultPlan([Fault.corrupt(1000, 1010, path_glob="*" + big, times=1)]))
    failed = await runtime.downloader.download_with_retry(TI2V, max_retries=0)
    assert not failed.success and failed.error_code == "integrity-mismatch"
    assert not layout.blob_path(entry.etag).exists()
    assert not layout.snapshot_path(hub.manifest(TI2V_REPO).commit, entry.path).exists()
    assert not layout.ref_path("main").exists()
    assert_store_invariants(runtime.settings.cache_dir)
    hub.set_faults(FaultPlan([Fault.corrupt(1000, 1010, path_glob="*" + big, times=1)]))
    healed = await runtime.downloader.download_with_retry(TI2V, max_retries=3)
    assert healed.success and healed.total_retries == 1
    assert sha256_of(layout.blob_path(entry.etag)) == entry.content_sha256


async def test_seed_retry_logic_two_failures_then_success(hub: DevHub, runtime: Runtime) -> None:
    # The seed's test_download_retry_logic: two injected network failures, then success.
    hub.set_faults(FaultPlan([Fault.http_status(503, times=2, path_glob="*model_index.json")]))
    result = await runtime.downloader.download_with_retry(TI2V, max_retries=3)
    assert result.success
    assert result.total_retries == 2


async def test_seed_partial_download_recovery(hub: DevHub, runtime: Runtime) -> None:
    # The seed's partial-download scenario: start, pause mid-way, resume, complete.
    hub.set_faults(FaultPlan([Fault.rate(400_000)]))
    downloader = runtime.downloader
    await downloader.start_download(TI2V)
    while (await downloader.get_download_progress(TI2V)).downloaded_bytes < 300_000:
        await asyncio.sleep(0.05)
    assert await downloader.pause_download(TI2V)
    progress_before = await downloader.get_download_progress(TI2V)
    assert progress_before.status is DownloadStatus.PAUSED and progress_before.can_resume
    status = await model_status(downloader, TI2V)
    assert status.availability_status is ModelAvailabilityStatus.PAUSED
    hub.clear_faults()
    hub.clear_log()
    assert await downloader.resume_download(TI2V)
    result = await downloader.wait_for_completion(TI2V)
    assert result.success
    assert (await downloader.get_download_progress(TI2V)).progress_percent == 100.0
    resumed = [r for r in hub.request_log if r.range and not r.range.startswith("bytes=0-")]
    assert resumed, "the resumed run should continue partial files with a Range request"


async def test_cancel_removes_partial_files(hub: DevHub, runtime: Runtime) -> None:
    hub.set_faults(FaultPlan([Fault.rate(300_000)]))
    await runtime.downloader.start_download(TI2V)
    while (await runtime.downloader.get_download_progress(TI2V)).downloaded_bytes < 200_000:
        await asyncio.sleep(0.05)
    assert await runtime.downloader.cancel_download(TI2V)
    blobs = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO).blobs_dir
    assert not list(blobs.glob("*.incomplete"))
    assert (await runtime.downloader.get_download_progress(TI2V)).status is DownloadStatus.CANCELLED


async def test_a_blob_locked_by_another_process_is_waited_for(
    hub: DevHub, runtime: Runtime
) -> None:
    # huggingface_hub takes .locks/<repo>/<blob>.lock; modelward must not write beside it.
    big = hub.manifest(TI2V_REPO).file(_biggest_lfs(hub))
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    layout.lock_path(big.etag).parent.mkdir(parents=True)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with filelock.FileLock(str(layout.lock_path(big.etag))):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    await runtime.downloader.start_download(TI2V)
    await asyncio.sleep(1.5)
    assert not layout.blob_path(big.etag).exists()
    assert not layout.incomplete_path(big.etag).exists()
    release.set()
    holder.join()
    assert (await runtime.downloader.wait_for_completion(TI2V)).success


async def test_shared_blobs_between_models_are_fetched_once(hub: DevHub, runtime: Runtime) -> None:
    # T2V and I2V share their text encoder; both pulled at once must not fetch it twice.
    results = await asyncio.gather(
        runtime.downloader.download_with_retry("t2v-a14b"),
        runtime.downloader.download_with_retry("i2v-a14b"),
    )
    assert all(r.success for r in results), [r.error_message for r in results]
    assert_store_invariants(runtime.settings.cache_dir)
