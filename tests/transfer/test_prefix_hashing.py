"""Hashing as the bytes arrive: from the receive buffer at the prefix's end, and read back
from the partial file only for bytes that arrived ahead of it (issue 17)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from contextlib import nullcontext

import pytest
import xxhash

from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.runtime import Runtime
from modelward.sources import RemoteFile, Target
from modelward.store import RepoLayout
from modelward.store.hashing import BLOCK_BYTES
from modelward.store.records import load_block_table
from modelward.transfer.fetch import AttemptMemory, FetchContext, fetch_blob
from tests.conftest import TI2V, TI2V_REPO, sha256_of


async def _biggest_file(runtime: Runtime) -> tuple[Target, RemoteFile, RepoLayout]:
    source = runtime.downloader.source(TI2V)
    target = await source.resolve(runtime.catalog.get(TI2V))
    file = max((f for f in target.files if f.is_lfs), key=lambda f: f.size_bytes)
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    return target, file, layout


def _context(
    runtime: Runtime, layout: RepoLayout, connections: int, segment_bytes: int, on_disk: list[int]
) -> FetchContext:
    def on_progress(done: int, new: int) -> None:
        on_disk[0] = done

    return FetchContext(
        source=runtime.downloader.source(TI2V),
        layout=layout,
        on_progress=on_progress,
        slot=nullcontext,
        throttle=None,
        segment_bytes=segment_bytes,
        connections=connections,
    )


def _assert_verified(layout: RepoLayout, file: RemoteFile) -> None:
    blob = layout.blob_path(file.blob_name)
    assert sha256_of(blob) == file.sha256
    table = load_block_table(layout, file.blob_name)
    data = blob.read_bytes()
    expected = [
        xxhash.xxh3_128_hexdigest(data[i : i + BLOCK_BYTES])
        for i in range(0, len(data), BLOCK_BYTES)
    ]
    assert table is not None and table.hashes == tuple(expected)


async def test_one_connection_hashes_every_byte_from_the_receive_buffer(
    hub: DevHub, runtime: Runtime
) -> None:
    target, file, layout = await _biggest_file(runtime)
    memory = AttemptMemory()
    ctx = _context(runtime, layout, connections=1, segment_bytes=256 * 1024, on_disk=[0])
    await fetch_blob(target, file, ctx, memory)
    _assert_verified(layout, file)
    # Every segment started where the hashed prefix ended: nothing was read back.
    assert memory.bytes_read_back == 0


async def test_several_connections_read_back_only_what_arrived_ahead_of_the_prefix(
    hub: DevHub, runtime: Runtime
) -> None:
    target, file, layout = await _biggest_file(runtime)
    # 1 MB/s per connection: four 512 KiB segments side by side, each written every 0.25 s,
    # so the later segments' first writes land well ahead of the prefix.
    hub.set_faults(FaultPlan([Fault.rate(1_000_000)]))
    memory = AttemptMemory()
    ctx = _context(runtime, layout, connections=4, segment_bytes=512 * 1024, on_disk=[0])
    await fetch_blob(target, file, ctx, memory)
    _assert_verified(layout, file)
    assert 0 < memory.bytes_read_back < file.size_bytes


@pytest.mark.parametrize("connections", [1, 3])
async def test_a_pause_mid_file_resumes_and_verifies(
    hub: DevHub, runtime: Runtime, connections: int
) -> None:
    target, file, layout = await _biggest_file(runtime)
    hub.set_faults(FaultPlan([Fault.rate(2_000_000)]))
    memory, on_disk = AttemptMemory(), [0]
    ctx = _context(runtime, layout, connections, segment_bytes=256 * 1024, on_disk=on_disk)
    first = asyncio.create_task(fetch_blob(target, file, ctx, memory))
    deadline = time.monotonic() + 20
    while on_disk[0] < file.size_bytes // 3:
        assert time.monotonic() < deadline and not first.done(), "no progress"
        await asyncio.sleep(0.01)
    first.cancel()  # what a pause does to the task that fetches the file
    with contextlib.suppress(asyncio.CancelledError):
        await first
    assert memory.present is not None
    kept = memory.present.total
    assert 0 < kept < file.size_bytes
    assert not layout.blob_path(file.blob_name).exists()
    hub.clear_faults()

    await fetch_blob(target, file, ctx, memory)
    _assert_verified(layout, file)
    # The resumed attempt had none of the kept bytes in a buffer: it read them back.
    if connections == 1:
        assert memory.bytes_read_back == kept  # the kept bytes were one prefix
    else:
        assert kept <= memory.bytes_read_back < file.size_bytes
