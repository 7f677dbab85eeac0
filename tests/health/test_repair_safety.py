"""A repair takes nothing apart that it cannot put back: locks, an unreachable source,
a crash between its steps, and restarts of the schedule."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from modelward.devhub import DevHub
from modelward.health import IssueKind, VerifyLevel
from modelward.runtime import Runtime
from modelward.sources import RemoteFile
from modelward.store import RepoLayout
from modelward.store.records import PartialRecord, save_partial
from tests.conftest import TI2V, TI2V_REPO, make_settings, sha256_of
from tests.health.conftest import Model
from tests.transfer.test_download import HOLD_LOCK


async def _pulled_and_damaged(runtime: Runtime) -> tuple[RepoLayout, RemoteFile]:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    target = runtime.manager.known_target(TI2V)
    assert target is not None
    big = max(target.files, key=lambda f: f.size_bytes)
    layout = runtime.manager.layout(TI2V)
    blob = layout.blob_path(big.blob_name)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(big.size_bytes // 3)
        fh.write(b"\x00\xff" * 2048)
    return layout, big


async def test_a_blob_another_process_is_writing_is_left_alone(tmp_path: Path, hub: DevHub) -> None:
    async with Runtime(make_settings(tmp_path, hub.url)) as runtime:
        layout, big = await _pulled_and_damaged(runtime)
        before = layout.blob_path(big.blob_name).read_bytes()
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(layout.lock_path(big.blob_name))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == b"held"
        try:
            refused = None
            try:
                await runtime.health.verify_and_repair_model(TI2V)
            except Exception as exc:
                refused = exc
            assert refused is not None and "being written by a download" in str(refused)
            assert getattr(refused, "hint", "")
            assert layout.blob_path(big.blob_name).read_bytes() == before  # untouched
            assert runtime.health.quarantine.entries() == []
            assert TI2V not in runtime.health.repairing
        finally:
            holder.stdin.close()
            holder.wait(10)
        result = await runtime.health.verify_and_repair_model(TI2V)  # lock free: it mends
        assert result.success and sha256_of(layout.blob_path(big.blob_name)) == big.blob_name


async def test_nothing_is_taken_apart_while_the_source_is_unreachable(
    tmp_path: Path, hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, hub.url, max_retries=0)) as runtime:
        layout, big = await _pulled_and_damaged(runtime)
        before = layout.blob_path(big.blob_name).read_bytes()
        await hub.stop()
        result = await runtime.health.verify_and_repair_model(TI2V)
        assert not result.success and result.plans == ()
        assert result.error_message and "Nothing was changed" in (result.error_hint or "")
        assert layout.blob_path(big.blob_name).read_bytes() == before
        assert not layout.incomplete_path(big.blob_name).exists()
        assert runtime.health.quarantine.entries() == []


async def test_a_crash_between_the_record_and_the_rename_is_repaired_next_time(
    tmp_path: Path, hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, hub.url)) as runtime:
        layout, big = await _pulled_and_damaged(runtime)
        target = runtime.manager.known_target(TI2V)
        assert target is not None
        # What a crash right after the partial record was written leaves: the record names
        # good ranges of a partial file that does not exist; the damaged blob is in place.
        half = big.size_bytes // 2
        save_partial(
            layout,
            PartialRecord(big.blob_name, big.size_bytes, target.commit, big.path, ((0, half),)),
        )
        check = await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)
        assert [i.kind for i in check.issues] == [IssueKind.CHECKSUM_MISMATCH]
        result = await runtime.health.verify_and_repair_model(TI2V)
        assert result.success
        assert sha256_of(layout.blob_path(big.blob_name)) == big.blob_name


async def test_scheduled_rounds_are_timed_from_scheduled_rounds_only(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url)
    async with Runtime(settings) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        assert await runtime.health.last_scheduled_run() is None
        await runtime.health.check_all()  # the check at start
        await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)  # by hand
        assert await runtime.health.last_scheduled_run() is None
        await runtime.health.run_scheduled_checks()
        ran = await runtime.health.last_scheduled_run()
        assert ran is not None
    async with Runtime(settings) as runtime:  # a restart keeps it
        assert await runtime.health.last_scheduled_run() == ran


async def test_a_quarantined_backup_stays_until_its_file_is_verified_again(
    model: Model, runtime: Runtime
) -> None:
    shard = model.shard()
    blob = model.blob(shard)
    entry = await asyncio.to_thread(
        runtime.quarantine.put_ranges,
        blob,
        ((0, 100),),
        repo_id=TI2V_REPO,
        path=shard,
        blob_name=blob.name,
        reason="kept for the test",
    )
    assert runtime.quarantine.replacement_verified(entry)
    with blob.open("r+b") as fh:
        fh.write(b"\0" * 8)  # the file in the store is no longer the verified one
    assert not runtime.quarantine.replacement_verified(entry)
    assert runtime.quarantine.purge() == 0 and runtime.quarantine.entries() == [entry]
    assert (await runtime.health.verify_and_repair_model(TI2V)).success
    assert runtime.quarantine.purge([entry.entry_id]) == 100
