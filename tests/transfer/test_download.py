"""Downloads from the local hub over real sockets into a real store on disk."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from modelward.devhub import DevHub, Fault, FaultPlan, RequestRecord
from modelward.events import Event, EventType
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus, model_status
from modelward.store import RepoLayout
from modelward.store.records import PartialRecord, save_partial
from modelward.transfer import DownloadStatus
from tests.conftest import (
    TI2V,
    TI2V_REPO,
    assert_store_invariants,
    make_settings,
    over_https,
    sha256_of,
)


def _file_body_bytes(log: list[RequestRecord]) -> int:
    """Body bytes the hub sent for file content (LFS via /cdn-lfs/, regular via /resolve/)."""
    return sum(
        r.bytes_sent
        for r in log
        if r.method == "GET"
        and r.status in (200, 206)
        and "/api/" not in r.path
        and (r.path.startswith("/cdn-lfs/") or "/resolve/" in r.path)
    )


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
    assert round(result.final_size_mb * 10**6) == manifest.total_size  # decimal MB
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


async def test_each_request_a_failed_attempt_lost_counts_as_a_retry(
    hub: DevHub, runtime: Runtime
) -> None:
    # Two connections of one file dropped together fail one attempt, and both their ranges
    # are asked again: each counts, in the result as in the events.
    big = _biggest_lfs(hub)
    retries: list[Event] = []
    runtime.bus.subscribe(
        lambda e: retries.append(e) if e.type == EventType.DOWNLOAD_RETRY else None
    )
    hub.set_faults(FaultPlan([Fault.drop(0, times=2, path_glob="*" + big)]))
    result = await runtime.downloader.download_with_retry(TI2V, max_retries=3)
    assert result.success
    assert result.total_retries == sum(e.data["retries"] for e in retries)
    # Mostly 2; 1 when the engine had already given up the second connection (its sibling
    # failed first) before the hub dropped it: a failure the engine never met.
    assert result.total_retries in (1, 2), [e.data for e in retries]


@over_https
async def test_seed_partial_download_recovery(hub: DevHub, runtime: Runtime) -> None:
    # The seed's partial-download scenario: start, pause mid-way, resume, complete.
    hub.set_faults(FaultPlan([Fault.rate(1_000_000)]))
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
    first_run = len(hub.request_log)  # the log is kept: both runs are summed below
    assert await downloader.resume_download(TI2V)
    result = await downloader.wait_for_completion(TI2V)
    assert result.success
    assert (await downloader.get_download_progress(TI2V)).progress_percent == 100.0
    log = hub.request_log
    resumed = [r for r in log[first_run:] if r.range and not r.range.startswith("bytes=0-")]
    assert resumed, "the resumed run should continue partial files with a Range request"
    # Bytes kept at the pause are not asked for again: over both runs the hub sent the
    # model once, plus at most what was in flight when the pause cut the connections.
    total = hub.manifest(TI2V_REPO).total_size
    sent = _file_body_bytes(log)
    assert sent <= total + 1536 * 1024, (sent, total, sent - total)
    assert_store_invariants(runtime.settings.cache_dir)


@over_https
async def test_cancel_removes_partial_files(hub: DevHub, runtime: Runtime) -> None:
    hub.set_faults(FaultPlan([Fault.rate(1_000_000)]))
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    records = runtime.settings.home / "partials" / layout.folder
    assert records == runtime.settings.partials_dir / "models--Wan-AI--Wan2.2-TI2V-5B-Diffusers"
    await runtime.downloader.start_download(TI2V)
    # A blob file (not .incomplete) exists only once it was verified and renamed in place.
    # Wait for some of those and for a large file well under way (the rate cap keeps it so).
    deadline = time.monotonic() + 30
    verified: set[str] = set()
    while not verified or (
        (await runtime.downloader.get_download_progress(TI2V)).downloaded_bytes < 200_000
    ):
        assert time.monotonic() < deadline, "no small file was verified"
        await asyncio.sleep(0.05)
        blobs = layout.blobs_dir.iterdir() if layout.blobs_dir.is_dir() else iter(())
        verified = {p.name for p in blobs if not p.name.endswith(".incomplete")}
    assert list(records.glob("*.json")), "a file in flight should have a resume record"
    assert await runtime.downloader.cancel_download(TI2V)
    assert not list(layout.blobs_dir.glob("*.incomplete"))
    leftover = sorted(p.name for p in records.iterdir()) if records.exists() else []
    assert leftover == [], f"resume records survived the cancel: {leftover}"
    kept = {p.name for p in layout.blobs_dir.iterdir()}
    assert verified <= kept, f"cancel removed verified blobs: {sorted(verified - kept)}"
    assert (await runtime.downloader.get_download_progress(TI2V)).status is DownloadStatus.CANCELLED
    assert_store_invariants(runtime.settings.cache_dir)


async def test_a_blob_locked_by_another_process_is_waited_for(
    hub: DevHub, runtime: Runtime
) -> None:
    # huggingface_hub takes .locks/<repo>/<blob>.lock; modelward must not write beside it.
    big = hub.manifest(TI2V_REPO).file(_biggest_lfs(hub))
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    layout.lock_path(big.etag).parent.mkdir(parents=True)
    # The holder is another process taking the lock the way huggingface_hub does (filelock).
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(layout.lock_path(big.etag))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == b"held"
    try:
        await runtime.downloader.start_download(TI2V)
        await asyncio.sleep(1.5)
        assert not layout.blob_path(big.etag).exists()
        assert not layout.incomplete_path(big.etag).exists()
    finally:
        holder.stdin.close()  # the holder releases the lock when its stdin closes
        holder.wait(10)
    assert (await runtime.downloader.wait_for_completion(TI2V)).success


HOLD_LOCK = """
import sys, filelock
with filelock.FileLock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


async def test_two_models_download_at_once(hub: DevHub, runtime: Runtime) -> None:
    # T2V and I2V are different repos (blobs are per repo); both pulled at once must succeed.
    results = await asyncio.gather(
        runtime.downloader.download_with_retry("t2v-a14b"),
        runtime.downloader.download_with_retry("i2v-a14b"),
    )
    assert all(r.success for r in results), [r.error_message for r in results]
    assert_store_invariants(runtime.settings.cache_dir)


async def _download_while_polling_status(hub: DevHub, tmp_path: Path) -> tuple[int, list[str]]:
    """One fresh store: download ti2v-5b while status and progress are asked for non-stop.

    Returns how many polls were made and the errors any of them raised.
    """
    errors: list[str] = []
    polls = 0
    async with Runtime(make_settings(tmp_path, hub.url)) as runtime:
        downloader = runtime.downloader

        async def poll() -> None:
            nonlocal polls
            try:
                await model_status(downloader, TI2V)
                await downloader.get_download_progress(TI2V)
            except Exception as exc:  # the test reports every failure, not just the first
                errors.append(f"{type(exc).__name__}: {exc}")
            polls += 1

        # Polling starts before the download, so the first status calls resolve the model
        # and record its manifest while the download does the same.
        await poll()
        await downloader.start_download(TI2V)
        while downloader.is_running(TI2V):
            await poll()
        result = await downloader.wait_for_completion(TI2V)
        assert result.success, (result.error_code, result.error_message)
        final = await model_status(downloader, TI2V)
        assert final.availability_status is ModelAvailabilityStatus.AVAILABLE, final
        assert_store_invariants(runtime.settings.cache_dir)
    return polls, errors


async def test_status_polled_during_a_download_never_breaks_it(hub: DevHub, tmp_path: Path) -> None:
    # A status request must only read the store: polled as fast as possible while files are
    # written, verified and linked, it never raises and never makes the download fail.
    # Four fresh stores at once give a race several chances to show.
    hub.set_faults(FaultPlan([Fault.rate(2_000_000)]))
    outcomes = await asyncio.gather(
        *(_download_while_polling_status(hub, tmp_path / f"run{i}") for i in range(4)),
        return_exceptions=True,
    )
    failed = [f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException)]
    assert failed == [], failed
    runs = [o for o in outcomes if not isinstance(o, BaseException)]
    errors = [e for _, errs in runs for e in errs]
    assert errors == [], errors
    assert all(polls > 3 for polls, _ in runs), [polls for polls, _ in runs]


async def test_stale_resume_record_without_partial_file_is_ignored(
    hub: DevHub, runtime: Runtime
) -> None:
    # The record says 1 MB was durable, but its partial file is gone (deleted by hand,
    # or by a cache cleaner): there is nothing to resume, so the whole file is fetched.
    manifest = hub.manifest(TI2V_REPO)
    big = manifest.file(_biggest_lfs(hub))
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    layout.blobs_dir.mkdir(parents=True)
    save_partial(
        layout,
        PartialRecord(big.etag, big.size, manifest.commit, big.path, done=((0, 1_000_000),)),
    )
    assert layout.partial_record_path(big.etag).is_file()
    assert not layout.incomplete_path(big.etag).exists()
    result = await runtime.downloader.download_with_retry(TI2V, max_retries=0)
    assert result.success, (result.error_code, result.error_message)
    assert sha256_of(layout.snapshot_path(manifest.commit, big.path)) == big.content_sha256
    gets = [r for r in hub.request_log if r.method == "GET" and big.etag in r.path and r.bytes_sent]
    assert sum(r.bytes_sent for r in gets) == big.size
    assert any(r.range and r.range.startswith("bytes=0-") for r in gets)
    assert not layout.partial_record_path(big.etag).exists()
    assert_store_invariants(runtime.settings.cache_dir)
