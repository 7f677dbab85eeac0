"""A verified pull counts as a full check, also when it was paused and resumed on the way:
the completed download is recorded, with the time it completed."""

from __future__ import annotations

import asyncio
import time

from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.events import Event, EventType
from modelward.health import VerifyLevel
from modelward.runtime import Runtime
from modelward.transfer import DownloadStatus
from tests.conftest import TI2V


async def _pause_part_way(runtime: Runtime, hub: DevHub) -> None:
    """Start pulling TI2V slowly (a rate per connection) and pause it part way."""
    hub.set_faults(FaultPlan([Fault.rate(400_000)]))
    await runtime.downloader.start_download(TI2V)
    deadline = time.monotonic() + 30
    while True:
        progress = await runtime.downloader.get_download_progress(TI2V)
        if progress.status is DownloadStatus.DOWNLOADING and (
            200_000 < progress.downloaded_bytes < progress.total_bytes // 2
        ):
            break
        assert time.monotonic() < deadline, progress
        await asyncio.sleep(0.02)
    assert await runtime.downloader.pause_download(TI2V)
    paused = await runtime.downloader.get_download_progress(TI2V)
    assert paused.status is DownloadStatus.PAUSED
    assert 0 < paused.downloaded_bytes < paused.total_bytes
    hub.clear_faults()


async def _resume_to_the_end(runtime: Runtime) -> float:
    """Resume the paused pull until it completes; returns when it was resumed."""
    resumed_at = time.time()
    assert await runtime.downloader.resume_download(TI2V)
    assert (await runtime.downloader.wait_for_completion(TI2V)).success
    await runtime.health.join_background()  # the record is kept off the event loop
    return resumed_at


async def _assert_recorded_after(runtime: Runtime, moment: float) -> None:
    deep = await runtime.health.last_deep_check(TI2V)
    assert deep is not None and deep.level is VerifyLevel.FULL and deep.is_healthy
    assert deep.checked_at > moment
    newest = runtime.health.history.recent(TI2V)[0]
    assert newest.level is VerifyLevel.FULL and newest.checked_at == deep.checked_at


async def test_a_paused_and_resumed_pull_is_recorded_when_it_completes(
    hub: DevHub, runtime: Runtime
) -> None:
    await _pause_part_way(runtime, hub)
    resumed_at = await _resume_to_the_end(runtime)
    await _assert_recorded_after(runtime, resumed_at)
    assert len(runtime.health.history.recent(TI2V)) == 1

    # Pulling a complete model fetches and hashes nothing: no check is recorded for it.
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    await runtime.health.join_background()
    assert len(runtime.health.history.recent(TI2V)) == 1


async def test_a_pull_paused_as_its_last_file_landed_is_recorded_on_resume(
    hub: DevHub, runtime: Runtime
) -> None:
    # The pause lands once every file is fetched and verified, before the job ends; the
    # resumed job finds everything in place and fetches nothing, yet the pull hashed it all.
    paused: list[asyncio.Task[bool]] = []
    files: list[str] = []
    verified: set[str] = set()

    def pause_at_the_last_file(event: Event) -> None:
        if event.model_id != TI2V or paused:
            return
        if event.type == EventType.DOWNLOAD_STARTED:
            files.extend(f["path"] for f in event.data["files"])
        elif event.type == EventType.FILE_VERIFIED and event.data["fetched"]:
            verified.add(event.data["path"])
            if files and verified == set(files):
                pause = runtime.downloader.pause_download(TI2V)
                paused.append(asyncio.get_running_loop().create_task(pause))

    unsubscribe = runtime.bus.subscribe(pause_at_the_last_file)
    await runtime.downloader.start_download(TI2V)
    result = await runtime.downloader.wait_for_completion(TI2V)
    unsubscribe()
    assert paused and await paused[0]
    assert result.final_status is DownloadStatus.PAUSED
    resumed_at = await _resume_to_the_end(runtime)
    await _assert_recorded_after(runtime, resumed_at)


async def test_a_removed_model_pulled_again_records_a_new_check(
    hub: DevHub, runtime: Runtime
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    await runtime.health.join_background()
    first = await runtime.health.last_deep_check(TI2V)
    assert first is not None and first.level is VerifyLevel.FULL

    removed = await runtime.availability.remove_model(TI2V, dry_run=False)
    assert removed.freed_bytes > 0
    await _pause_part_way(runtime, hub)
    resumed_at = await _resume_to_the_end(runtime)
    await _assert_recorded_after(runtime, resumed_at)
    assert len(runtime.health.history.recent(TI2V)) == 2

    # Removed and pulled again in one go, too.
    await runtime.availability.remove_model(TI2V, dry_run=False)
    pulled_at = time.time()
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    await runtime.health.join_background()
    await _assert_recorded_after(runtime, pulled_at)
    assert len(runtime.health.history.recent(TI2V)) == 3
