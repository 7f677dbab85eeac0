"""The download engine of issue 3: segments, restarts, priorities, bandwidth, cancel."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

import xxhash

from modelward.catalog import load_catalog
from modelward.devhub import DevHub, Fault, FaultPlan, RequestRecord
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus, model_status
from modelward.store import RepoLayout
from modelward.store.records import load_block_table, load_partial
from modelward.transfer import DownloadStatus, Priority
from modelward.transfer.fetch import AttemptMemory, FetchContext, fetch_blob
from modelward.transfer.ranges import RangeSet
from modelward.units import MB
from tests.conftest import (
    TI2V,
    TI2V_REPO,
    assert_store_invariants,
    make_settings,
    over_https,
    sha256_of,
)


def _biggest(hub: DevHub, repo: str = TI2V_REPO) -> tuple[str, int, str]:
    f = max((f for f in hub.manifest(repo).files if f.is_lfs), key=lambda f: f.size)
    return f.path, f.size, f.etag


def _body_gets(hub: DevHub, etag: str | None = None) -> list[RequestRecord]:
    return [
        r
        for r in hub.request_log
        if r.method == "GET"
        and r.status in (200, 206)  # not the resolve redirects' short bodies
        and r.bytes_sent
        and "/api/" not in r.path
        and (etag is None or etag in r.path)
    ]


async def _log_settled(hub: DevHub) -> None:
    # The hub logs a request when its response is done, a moment after the client has it.
    await asyncio.sleep(0.3)


async def _wait_for_bytes(runtime: Runtime, model_id: str, at_least: int) -> None:
    deadline = time.monotonic() + 30
    while (await runtime.downloader.get_download_progress(model_id)).downloaded_bytes < at_least:
        assert time.monotonic() < deadline, "the download made no progress"
        await asyncio.sleep(0.02)


async def test_a_large_file_is_fetched_in_segments_over_several_connections(
    hub: DevHub, runtime: Runtime
) -> None:
    _path, size, etag = _biggest(hub)
    hub.set_faults(FaultPlan([Fault.rate(1_000_000)]))
    result = await runtime.downloader.download_with_retry(TI2V)
    assert result.success
    await _log_settled(hub)
    gets = _body_gets(hub, etag)
    assert len(gets) >= 4 and all(r.range for r in gets)
    assert sum(r.bytes_sent for r in gets) == size
    # Segments ran side by side, not one after another.
    spans = sorted((r.started_at, r.started_at + r.duration_s) for r in gets)
    assert any(b_start < a_end for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    assert sha256_of(layout.blob_path(etag)) == etag


async def test_block_table_of_every_verified_blob_is_recorded(
    hub: DevHub, runtime: Runtime
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    for f in hub.manifest(TI2V_REPO).files:
        table = load_block_table(layout, f.etag)
        assert table is not None, f.path
        assert table.algorithm == "xxh3_128"
        data = layout.blob_path(f.etag).read_bytes()
        size = table.block_bytes
        expected = [
            xxhash.xxh3_128_hexdigest(data[i : i + size]) for i in range(0, len(data), size)
        ]
        assert table.hashes == tuple(expected), f.path


@over_https
async def test_pause_survives_a_restart_and_resume_fetches_only_what_is_missing(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url)
    total = hub.manifest(TI2V_REPO).total_size
    hub.set_faults(FaultPlan([Fault.rate(600_000)]))
    async with Runtime(settings) as first:
        await first.downloader.start_download(TI2V)
        await _wait_for_bytes(first, TI2V, total // 3)
        assert await first.downloader.pause_download(TI2V)
    layout = RepoLayout(settings.cache_dir, settings.home, TI2V_REPO)
    kept = sum(
        f.size
        if layout.blob_path(f.etag).exists()
        else sum(e - s for s, e in (load_partial(layout, f.etag) or _no_record()).done)
        for f in hub.manifest(TI2V_REPO).files
    )
    assert 0 < kept < total
    hub.clear_faults()
    await _log_settled(hub)  # a request cut by the pause is logged when the hub sees the cut
    hub.clear_log()

    async with Runtime(settings) as second:
        await second.restore()
        assert not second.downloader.is_running(TI2V)
        status = await model_status(second.downloader, TI2V)
        assert status.availability_status is ModelAvailabilityStatus.PAUSED
        progress = await second.downloader.get_download_progress(TI2V)
        assert progress.status is DownloadStatus.PAUSED
        await asyncio.sleep(0.3)
        assert _body_gets(hub) == [], "a paused model must not download after a restart"
        assert await second.downloader.resume_download(TI2V)
        result = await second.downloader.wait_for_completion(TI2V)
    assert result.success
    await _log_settled(hub)
    # Pausing wrote down everything it had received: nothing is fetched twice.
    assert sum(r.bytes_sent for r in _body_gets(hub)) == total - kept, [
        (r.path[-50:], r.range, r.status, r.bytes_sent) for r in _body_gets(hub)
    ]
    assert_store_invariants(settings.cache_dir)


class _NoRecord:
    done: tuple[tuple[int, int], ...] = ()


def _no_record() -> _NoRecord:
    return _NoRecord()


async def test_a_running_download_continues_after_a_service_restart(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url)
    hub.set_faults(FaultPlan([Fault.rate(600_000)]))
    async with Runtime(settings) as first:
        await first.downloader.start_download(TI2V)
        await _wait_for_bytes(first, TI2V, 500_000)
    hub.clear_faults()
    async with Runtime(settings) as second:
        entries = await second.downloader.restore_queue()
        assert [e.model_id for e in entries] == [TI2V]
        assert (await second.downloader.wait_for_completion(TI2V)).success


async def test_high_priority_finishes_first_with_one_connection(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url, connections=1)
    hub.set_faults(FaultPlan([Fault.rate(4_000_000)]))
    finished: dict[str, float] = {}
    async with Runtime(settings) as runtime:
        downloader = runtime.downloader

        async def pull(model_id: str) -> None:
            result = await downloader.wait_for_completion(model_id)
            assert result.success, result.error_message
            finished[model_id] = time.monotonic()

        await downloader.start_download("t2v-a14b")  # normal, queued first
        await _wait_for_bytes(runtime, "t2v-a14b", 200_000)
        await downloader.start_download(TI2V, priority=Priority.HIGH)
        await asyncio.gather(pull("t2v-a14b"), pull(TI2V))
    assert finished[TI2V] < finished["t2v-a14b"]


async def test_raising_a_queued_model_lets_it_go_first(tmp_path: Path, hub: DevHub) -> None:
    settings = make_settings(tmp_path, hub.url, connections=1)
    hub.set_faults(FaultPlan([Fault.rate(4_000_000)]))
    async with Runtime(settings) as runtime:
        downloader = runtime.downloader
        await downloader.start_download("t2v-a14b")
        await downloader.start_download("i2v-a14b")
        await _wait_for_bytes(runtime, "t2v-a14b", 200_000)
        order = await downloader.move_in_queue("i2v-a14b", 1)  # 1 = the front
        assert order[:2] == ["i2v-a14b", "t2v-a14b"]
        entries = await downloader.queue_entries()
        assert [(e.model_id, e.position) for e in entries][:2] == [
            ("i2v-a14b", 1),
            ("t2v-a14b", 2),
        ]
        first = await downloader.wait_for_completion("i2v-a14b")
        assert first.success
        assert downloader.is_running("t2v-a14b")
        assert (await downloader.wait_for_completion("t2v-a14b")).success


@over_https
async def test_bandwidth_cap_holds_and_a_change_applies_live(tmp_path: Path, hub: DevHub) -> None:
    settings = make_settings(tmp_path, hub.url)
    total = hub.manifest(TI2V_REPO).total_size
    async with Runtime(settings) as runtime:
        downloader = runtime.downloader
        await downloader.set_bandwidth_limit(1.0)  # the seed's call, in MB/s
        assert downloader.rate_limit_bytes_per_s == MB
        started = time.monotonic()
        await downloader.start_download(TI2V)
        await asyncio.sleep(2.0)
        slow = (await downloader.get_download_progress(TI2V)).downloaded_bytes
        elapsed = time.monotonic() - started
        # Generous bounds: a loaded 2-core machine may be slower, never much faster.
        assert slow / elapsed < 1.6 * MB, slow / elapsed
        assert slow > 0.3 * MB
        await downloader.set_rate_limit(0)  # unlimited, live
        result = await downloader.wait_for_completion(TI2V)
        assert result.success
        assert time.monotonic() - started < 2.0 + (total - slow) / MB


async def test_cancel_removes_that_models_partials_only_and_reports_space(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url)
    hub.set_faults(FaultPlan([Fault.rate(150_000)]))
    async with Runtime(settings) as runtime:
        downloader = runtime.downloader
        # Queue order gives the first model every connection, so one at a time.
        await downloader.start_download("t2v-a14b")
        await _wait_for_bytes(runtime, "t2v-a14b", 100_000)
        await downloader.pause_download("t2v-a14b")
        await downloader.start_download(TI2V)
        await _wait_for_bytes(runtime, TI2V, 100_000)
        other = RepoLayout(settings.cache_dir, settings.home, "Wan-AI/Wan2.2-T2V-A14B-Diffusers")
        others_before = sorted(other.blobs_dir.glob("*.incomplete"))
        assert others_before
        before = await downloader.get_download_progress(TI2V)
        result = await downloader.cancel(TI2V)
    assert result.stopped and result.freed_bytes > 0, (result, before)
    mine = RepoLayout(settings.cache_dir, settings.home, TI2V_REPO)
    assert not list(mine.blobs_dir.glob("*.incomplete"))
    assert sorted(other.blobs_dir.glob("*.incomplete")) == others_before


async def test_fault_mix_ends_verified_and_never_promotes_a_bad_block(
    hub: DevHub, runtime: Runtime
) -> None:
    path, _, _ = _biggest(hub)
    hub.set_faults(
        FaultPlan(
            [
                Fault.drop(100_000, path_glob="*.safetensors", times=3),
                Fault.http_status(503, retry_after_s=1, times=1, path_glob="*.safetensors"),
                Fault.http_status(429, retry_after_s=1, times=1, path_glob="*.json"),
                Fault.stall(50_000, stall_s=None, path_glob="*.safetensors", times=1),
                Fault.corrupt(300_000, 300_010, path_glob="*" + path, times=1),
            ],
            seed=3,
        )
    )
    result = await runtime.downloader.download_with_retry(TI2V, max_retries=5)
    assert result.success, (result.error_code, result.error_message)
    fired = Counter(kind for record in hub.request_log for kind in record.faults)
    # How many faults fire depends on timing (one failure stops its file's other segments).
    assert fired["drop"] >= 1 and fired["status"] >= 1, fired
    assert result.total_retries >= 1
    assert_store_invariants(runtime.settings.cache_dir)


async def test_two_starts_at_once_make_one_job_that_pause_stops(
    hub: DevHub, runtime: Runtime
) -> None:
    hub.set_faults(FaultPlan([Fault.rate(300_000)]))
    downloader = runtime.downloader
    await asyncio.gather(downloader.start_download(TI2V), downloader.start_download(TI2V))
    tasks = [t for t in asyncio.all_tasks() if t.get_name() == f"download {TI2V}"]
    assert len(tasks) == 1
    assert await downloader.pause_download(TI2V)
    assert not downloader.is_running(TI2V)


async def test_cancel_right_after_start_is_recorded(tmp_path: Path, hub: DevHub) -> None:
    settings = make_settings(tmp_path, hub.url)
    async with Runtime(settings) as runtime:
        await runtime.downloader.start_download(TI2V)
        await runtime.downloader.cancel(TI2V)
        progress = await runtime.downloader.get_download_progress(TI2V)
        assert progress.status is DownloadStatus.CANCELLED
    async with Runtime(settings) as again:
        assert await again.downloader.restore_queue() == []
        assert not again.downloader.is_running(TI2V)


async def test_reprioritising_a_model_never_started_does_not_start_it_later(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url)
    async with Runtime(settings) as runtime:
        await runtime.downloader.set_priority(TI2V, Priority.HIGH)
        await runtime.downloader.move_in_queue("t2v-a14b", 1)
    async with Runtime(settings) as again:
        await again.restore()
        assert not again.downloader.is_running(TI2V)
        assert not again.downloader.is_running("t2v-a14b")


async def test_remembered_ranges_of_a_replaced_partial_file_are_not_trusted(
    hub: DevHub, runtime: Runtime
) -> None:
    # Between two attempts another writer replaced the partial file with one of the same
    # size: what this process remembers writing is no longer in it.
    spec = runtime.catalog.get(TI2V)
    source = runtime.downloader.source(TI2V)
    target = await source.resolve(spec)
    file = max((f for f in target.files if f.is_lfs), key=lambda f: f.size_bytes)
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)

    ctx = FetchContext(
        source=source,
        layout=layout,
        on_progress=lambda done, new: None,
        slot=nullcontext,
        throttle=None,
        segment_bytes=256 * 1024,
    )
    layout.blobs_dir.mkdir(parents=True)
    partial = layout.incomplete_path(file.blob_name)
    partial.write_bytes(b"\0" * file.size_bytes)
    stale = AttemptMemory(RangeSet([(0, file.size_bytes)]), (0, 0))
    partial.unlink()
    partial.write_bytes(b"\0" * file.size_bytes)  # same size, another file
    await fetch_blob(target, file, ctx, stale)
    assert sha256_of(layout.blob_path(file.blob_name)) == file.sha256


async def test_a_waiting_high_priority_model_lends_its_rank_to_a_shared_blob(
    tmp_path: Path, hub: DevHub
) -> None:
    # Two catalog entries on one repo share blobs. The low-priority full model holds the
    # text encoder's blob lock; the high-priority encoder-only entry waits for it and must
    # not wait behind a normal-priority model too.
    extra = tmp_path / "enc.toml"
    extra.write_text(
        f'[models.ti2v-encoder]\nrepo = "{TI2V_REPO}"\nrevision = "main"\n'
        'include = ["text_encoder/*"]\n'
    )
    catalog = load_catalog([extra], env={})
    settings = make_settings(tmp_path, hub.url, connections=1)
    hub.set_faults(FaultPlan([Fault.rate(3_000_000)]))
    finished: dict[str, float] = {}
    async with Runtime(settings, catalog) as runtime:
        downloader = runtime.downloader

        async def done(model_id: str) -> None:
            assert (await downloader.wait_for_completion(model_id)).success
            finished[model_id] = time.monotonic()

        await downloader.start_download(TI2V, priority=Priority.LOW)
        await _wait_for_bytes(runtime, TI2V, 100_000)
        await downloader.start_download("t2v-a14b", priority=Priority.NORMAL)
        await downloader.start_download("ti2v-encoder", priority=Priority.HIGH)
        await asyncio.gather(done(TI2V), done("t2v-a14b"), done("ti2v-encoder"))
    assert finished["ti2v-encoder"] < finished["t2v-a14b"]


async def test_progress_is_recorded_while_segments_are_still_running(
    hub: DevHub, runtime: Runtime
) -> None:
    # Slow enough that no segment of the biggest file ends within the test: whatever the
    # record holds was written by the 8 MiB records or the once-a-second fsync.
    _path, size, etag = _biggest(hub)
    hub.set_faults(FaultPlan([Fault.rate(150_000)]))
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    await runtime.downloader.start_download(TI2V)
    deadline = time.monotonic() + 20
    record = None
    while time.monotonic() < deadline:
        record = load_partial(layout, etag)
        if record is not None and record.done:
            break
        await asyncio.sleep(0.1)
    assert record is not None and record.done, "no fsynced range was recorded"
    assert sum(e - s for s, e in record.done) < size
    assert await runtime.downloader.pause_download(TI2V)
