"""Scrub: silent damage that keeps the stat is found by a rotation of budgeted block reads."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

from modelward.devhub import DevHub
from modelward.health import IssueKind, VerifyLevel, scrub_model
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus, model_status
from modelward.store import RepoLayout
from modelward.store.hashing import BLOCK_BYTES
from modelward.store.records import VerifiedRecord
from tests.conftest import TI2V, TI2V_REPO, make_settings


def _rot_keeping_stat(path: Path, offset: int) -> None:
    """Flip bytes in place and put the times back: what bit rot looks like to a stat."""
    real = Path(os.path.realpath(path))
    before = real.stat()
    real.chmod(0o644)
    with real.open("r+b") as fh:
        fh.seek(offset)
        data = fh.read(64)
        fh.seek(offset)
        fh.write(bytes(b ^ 0x5A for b in data))
    os.utime(real, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert real.stat().st_mtime_ns == before.st_mtime_ns


async def test_scrub_rotates_within_its_budget_and_finds_damage_a_stat_cannot_see(
    tmp_path: Path, big_hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, big_hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        target = runtime.manager.known_target(TI2V)
        assert target is not None
        layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
        blocks = sum(math.ceil(f.size_bytes / BLOCK_BYTES) for f in target.files)

        # One block's worth per run: no run reads more, and by the time the rotation has
        # come round once every block was read exactly once.
        passes = [scrub_model(layout, target, BLOCK_BYTES)]
        while passes[-1].cycles == 0:
            passes.append(scrub_model(layout, target, BLOCK_BYTES))
            assert len(passes) <= 2 * blocks
        assert all(0 < p.bytes_read <= BLOCK_BYTES and not p.issues for p in passes)
        assert sum(p.blocks_checked for p in passes) == blocks
        assert sum(p.bytes_read for p in passes) == target.size_bytes

        big = max(target.files, key=lambda f: f.size_bytes)
        assert big.size_bytes > 2 * BLOCK_BYTES
        _rot_keeping_stat(layout.blob_path(big.blob_name), BLOCK_BYTES + 999)
        quick = await runtime.health.check_model_integrity(TI2V, VerifyLevel.QUICK)
        structural = await runtime.health.check_model_integrity(TI2V, VerifyLevel.STRUCTURAL)
        assert quick.is_healthy and structural.is_healthy  # invisible to a stat and headers

        scrub = await runtime.health.check_model_integrity(TI2V, VerifyLevel.SCRUB)
        assert [(i.path, i.kind) for i in scrub.issues] == [(big.path, IssueKind.CHECKSUM_MISMATCH)]
        assert "block 1 " in scrub.issues[0].detail
        assert scrub.bytes_hashed <= target.size_bytes + BLOCK_BYTES

        # What the scrub learnt sticks: quick checks and the status see it without hashing.
        assert not VerifiedRecord(layout).is_verified(big.blob_name)
        quick = await runtime.health.check_model_integrity(TI2V, VerifyLevel.QUICK)
        assert [i.kind for i in quick.issues] == [IssueKind.CHECKSUM_MISMATCH]
        status = await model_status(runtime.downloader, TI2V, health=runtime.health)
        assert status.availability_status is ModelAvailabilityStatus.CORRUPTED
        assert not status.is_available and status.corruption_detected
        assert status.last_health_check is not None

        repaired = await runtime.health.verify_and_repair_model(TI2V)
        assert repaired.success and repaired.bytes_fetched == BLOCK_BYTES
        assert (await runtime.health.check_model_integrity(TI2V, VerifyLevel.SCRUB)).is_healthy


async def test_a_full_check_records_block_tables_that_scrub_needs(
    tmp_path: Path, big_hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, big_hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        target = runtime.manager.known_target(TI2V)
        assert target is not None
        layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
        # Blobs from before block tables (or adopted ones) have none.
        for path in (layout.records_dir / "blocks").glob("*.json"):
            path.unlink()
        bare = scrub_model(layout, target, 10 * BLOCK_BYTES)
        assert bare.bytes_read == 0 and len(bare.unscrubbable) == len(target.files)

        assert (await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)).is_healthy
        after = scrub_model(layout, target, 2**40)
        assert after.unscrubbable == () and after.bytes_read == target.size_bytes
        assert after.cycles == 1 and not after.issues


async def test_two_models_on_one_commit_keep_their_own_rotation(
    tmp_path: Path, big_hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, big_hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        whole = runtime.manager.known_target(TI2V)
        assert whole is not None
        layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
        shards = dataclasses.replace(
            whole,
            model_id="ti2v-shards",
            files=tuple(f for f in whole.files if f.path.endswith(".safetensors")),
        )
        cursor = layout.records_dir / "scrub" / f"{TI2V}@{whole.commit}.json"
        assert scrub_model(layout, whole, BLOCK_BYTES).bytes_read
        position = json.loads(cursor.read_text())
        assert scrub_model(layout, shards, BLOCK_BYTES).bytes_read
        assert json.loads(cursor.read_text()) == position  # the other rotation left it be
        names = sorted(p.name for p in cursor.parent.iterdir())
        assert names == sorted([cursor.name, f"ti2v-shards@{whole.commit}.json"])
