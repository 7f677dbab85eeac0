"""A truncated file is repaired from its good prefix: only the missing bytes are fetched
(finding 8); a prefix nothing vouches for is checked by the whole-file checksum, and
fetched whole when that fails."""

from __future__ import annotations

import os
from pathlib import Path

from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.devhub.manifest import ManifestFile
from modelward.health import IssueKind
from modelward.runtime import Runtime
from modelward.store import RepoLayout
from modelward.store.hashing import BLOCK_BYTES
from tests.conftest import TI2V, TI2V_REPO, make_settings, sha256_of


def _largest(hub: DevHub) -> ManifestFile:
    return max((f for f in hub.manifest(TI2V_REPO).files if f.is_lfs), key=lambda f: f.size)


def _sent(hub: DevHub) -> int:
    """File bytes the hub sent since its log was cleared."""
    return sum(
        r.bytes_sent for r in hub.request_log if r.status in (200, 206) and "/api/" not in r.path
    )


def _truncate(layout: RepoLayout, file: ManifestFile, size: int) -> Path:
    blob = layout.blob_path(file.etag)
    blob.chmod(0o644)
    os.truncate(blob, size)
    return blob


async def _halved_without_block_table(
    hub: DevHub, runtime: Runtime
) -> tuple[RepoLayout, ManifestFile, int, Path]:
    """TI2V downloaded, then its largest file cut to half with its block table gone."""
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    layout = runtime.manager.layout(TI2V)
    victim = _largest(hub)
    layout.block_table_path(victim.etag).unlink()
    half = victim.size // 2
    return layout, victim, half, _truncate(layout, victim, half)


async def test_half_a_multi_block_shard_fetches_only_the_missing_half(
    tmp_path: Path, big_hub: DevHub
) -> None:
    big = _largest(big_hub)
    assert big.size > 2 * BLOCK_BYTES  # the cut falls past the first block
    async with Runtime(make_settings(tmp_path, big_hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        layout = runtime.manager.layout(TI2V)
        half = big.size // 2
        blob = _truncate(layout, big, half)
        report = await runtime.health.detect_corruption(TI2V)
        [damaged] = report.files
        assert damaged.kind is IssueKind.TRUNCATED
        kept = half // BLOCK_BYTES * BLOCK_BYTES  # the whole blocks of the prefix
        assert damaged.damaged_ranges == ((kept, big.size),)

        big_hub.clear_log()
        result = await runtime.health.verify_and_repair_model(TI2V)
        assert result.success, (result.error_message, result.error_hint)
        assert [p.damaged_ranges for p in result.plans] == [((kept, big.size),)]
        # Only the missing bytes (from the start of the block the truncation cut) came.
        assert _sent(big_hub) == big.size - kept == result.bytes_fetched
        assert big.size - half <= _sent(big_hub) < big.size - half + BLOCK_BYTES
        assert sha256_of(blob) == big.etag
        assert (await runtime.health.check_model_integrity(TI2V)).is_healthy
        # The truncated copy is kept in quarantine, whole.
        [entry] = runtime.health.quarantine.entries()
        assert entry.size_bytes == half and entry.ranges is None


async def test_without_a_block_table_the_prefix_is_kept_and_checked_by_the_whole_hash(
    hub: DevHub, runtime: Runtime
) -> None:
    _layout, victim, half, blob = await _halved_without_block_table(hub, runtime)

    hub.clear_log()
    result = await runtime.health.verify_and_repair_model(TI2V)
    assert result.success
    assert [(i.path, i.kind) for i in result.issues_found] == [(victim.path, IssueKind.TRUNCATED)]
    assert result.plans[0].damaged_ranges == ((half, victim.size),)
    assert _sent(hub) == victim.size - half
    assert sha256_of(blob) == victim.etag
    assert (await runtime.health.check_model_integrity(TI2V)).is_healthy
    assert len(runtime.health.quarantine.entries()) == 1


async def test_a_bad_prefix_without_a_block_table_falls_back_to_the_whole_file(
    hub: DevHub, runtime: Runtime
) -> None:
    _layout, victim, half, blob = await _halved_without_block_table(hub, runtime)
    with blob.open("r+b") as fh:  # the prefix is wrong too: only the full hash can tell
        fh.seek(half // 3)
        fh.write(b"\x00\xff" * 64)

    hub.clear_log()
    result = await runtime.health.verify_and_repair_model(TI2V)
    assert result.success, (result.error_message, result.error_hint)
    assert result.plans[0].damaged_ranges == ((half, victim.size),)
    # The rest, whose checksum then failed (nothing promoted), then the whole file.
    assert _sent(hub) == (victim.size - half) + victim.size
    assert sha256_of(blob) == victim.etag


async def test_a_prefix_that_failed_once_is_not_tried_again(hub: DevHub, runtime: Runtime) -> None:
    layout, victim, half, blob = await _halved_without_block_table(hub, runtime)
    # Every attempt of the first repair gets bad bytes past the prefix: it fails.
    hub.set_faults(FaultPlan([Fault.corrupt(half + 10, half + 20, path_glob="*" + victim.path)]))
    failed = await runtime.health.verify_and_repair_model(TI2V)
    assert not failed.success and failed.plans[0].damaged_ranges == ((half, victim.size),)
    assert blob.stat().st_size == half  # still the truncated copy, still served
    assert not layout.incomplete_path(victim.etag).exists()

    hub.clear_faults()
    hub.clear_log()
    again = await runtime.health.verify_and_repair_model(TI2V)
    assert again.success, (again.error_message, again.error_hint)
    assert again.plans[0].damaged_ranges == ((0, victim.size),)
    assert _sent(hub) == victim.size
    assert sha256_of(blob) == victim.etag
