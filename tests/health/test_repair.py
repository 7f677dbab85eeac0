"""verify_and_repair_model: damage on disk, repaired from the local hub, the bad copy kept."""

from __future__ import annotations

import os
from pathlib import Path

from modelward.devhub import DevHub
from modelward.health import IssueKind
from modelward.runtime import Runtime
from modelward.store import RepoLayout
from modelward.store.hashing import BLOCK_BYTES
from modelward.store.records import DamagedRecord
from tests.conftest import TI2V, TI2V_REPO, make_settings, sha256_of


def _damage(path: Path, offset: int, length: int) -> None:
    real = Path(os.path.realpath(path))
    real.chmod(0o644)
    with real.open("r+b") as fh:
        fh.seek(offset)
        original = fh.read(length)
        fh.seek(offset)
        fh.write(bytes(b ^ 0xFF for b in original))


async def test_a_4_kib_corruption_refetches_only_its_block(tmp_path: Path, big_hub: DevHub) -> None:
    async with Runtime(make_settings(tmp_path, big_hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        big = max((f for f in big_hub.manifest(TI2V_REPO).files if f.is_lfs), key=lambda f: f.size)
        assert big.size > 2 * BLOCK_BYTES
        layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
        offset = BLOCK_BYTES + 12_345  # inside the second block
        _damage(layout.blob_path(big.etag), offset, 4096)

        check = await runtime.health.check_model_integrity(TI2V)
        assert not check.is_healthy  # the stat changed: the structural level sees that much
        report = await runtime.health.detect_corruption(TI2V)
        assert report.corruption_detected and report.repair_bytes == BLOCK_BYTES
        [damaged] = report.files
        assert damaged.path == big.path and damaged.kind is IssueKind.CHECKSUM_MISMATCH
        assert damaged.damaged_ranges == ((BLOCK_BYTES, 2 * BLOCK_BYTES),)
        # The full pass compared the blocks too: a repair need not read the file again.
        recorded = DamagedRecord(layout).ranges(big.etag)
        assert recorded == ((BLOCK_BYTES, 2 * BLOCK_BYTES),)
        big_hub.clear_log()
        result = await runtime.health.verify_and_repair_model(TI2V)

    assert result.success, (result.error_message, result.error_hint)
    assert [(i.path, i.kind) for i in result.issues_found] == [
        (big.path, IssueKind.CHECKSUM_MISMATCH)
    ]
    [plan] = result.plans
    assert plan.damaged_ranges == ((BLOCK_BYTES, 2 * BLOCK_BYTES),)
    sent = sum(
        r.bytes_sent
        for r in big_hub.request_log
        if r.status in (200, 206) and "/api/" not in r.path
    )
    assert sent == BLOCK_BYTES == result.bytes_fetched
    assert sha256_of(layout.blob_path(big.etag)) == big.etag
    entry = runtime.health.quarantine.entries()[0]
    assert entry.path == big.path and "checksum" in entry.reason
    # Quarantine keeps the damaged block; the rest of the bad copy is the repaired file.
    assert entry.ranges == [[BLOCK_BYTES, 2 * BLOCK_BYTES]] and entry.file_size_bytes == big.size
    kept = (runtime.health.quarantine.root / entry.entry_id / "file").read_bytes()
    with layout.blob_path(big.etag).open("rb") as fh:
        fh.seek(BLOCK_BYTES)
        good = fh.read(BLOCK_BYTES)
    assert len(kept) == BLOCK_BYTES == entry.size_bytes
    start, end = 12_345, 12_345 + 4096  # where _damage flipped every bit
    assert kept[:start] == good[:start] and kept[end:] == good[end:]
    assert all(a ^ b == 0xFF for a, b in zip(kept[start:end], good[start:end], strict=True))


async def test_a_healthy_model_needs_no_repair(hub: DevHub, runtime: Runtime) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    report = await runtime.health.detect_corruption(TI2V)
    assert not report.corruption_detected and report.files == ()
    result = await runtime.health.verify_and_repair_model(TI2V)
    assert result.success and not result.plans and result.bytes_fetched == 0
    assert runtime.health.quarantine.entries() == []


async def test_seed_corruption_detection(hub: DevHub, runtime: Runtime) -> None:
    # The seed's test_corruption_detection, through the names it uses.
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    victim = max((f for f in hub.manifest(TI2V_REPO).files if f.is_lfs), key=lambda f: f.size)
    _damage(layout.blob_path(victim.etag), victim.size // 3, 64)

    integrity_result = await runtime.health.check_model_integrity(TI2V)
    assert not integrity_result.is_healthy
    assert "corruption" in integrity_result.issues
    assert "missing" not in integrity_result.issues

    repair_result = await runtime.health.verify_and_repair_model(TI2V)
    assert repair_result.success
    assert (await runtime.health.check_model_integrity(TI2V)).is_healthy
