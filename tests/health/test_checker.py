"""check_integrity: each kind of damage is found at the cheapest level that can see it."""

from __future__ import annotations

import os
import time

from modelward.health import IntegrityResult, IssueKind, VerifyLevel, check_integrity
from modelward.store.records import VerifiedRecord
from tests.health.conftest import Model


def _check(model: Model, level: VerifyLevel) -> IntegrityResult:
    return check_integrity("ti2v-5b", model.layout, model.target, level)


def _kinds(result: IntegrityResult) -> set[tuple[str, IssueKind]]:
    return {(i.path, i.kind) for i in result.issues}


async def test_a_healthy_model_passes_every_level(model: Model) -> None:
    for level in VerifyLevel:
        result = _check(model, level)
        assert result.is_healthy and result.integrity_score == 1.0, (level, result.issues)
        assert result.files_checked == len(model.target.files)
    assert _check(model, VerifyLevel.FULL).bytes_hashed == sum(
        f.size_bytes for f in model.target.files
    )


async def test_the_quick_level_is_fast_and_reads_no_file(model: Model) -> None:
    began = time.perf_counter()
    for _ in range(20):
        assert _check(model, VerifyLevel.QUICK).is_healthy
    assert (time.perf_counter() - began) / 20 < 0.5  # generous: a loaded 2-core machine


async def test_flipped_bytes_are_modified_quickly_and_a_checksum_mismatch_fully(
    model: Model,
) -> None:
    shard = model.shard()
    blob = model.blob(shard)
    with blob.open("r+b") as fh:
        fh.seek(blob.stat().st_size // 2)
        fh.write(b"\xff" * 16)
    assert _kinds(_check(model, VerifyLevel.QUICK)) == {(shard, IssueKind.MODIFIED)}
    assert _kinds(_check(model, VerifyLevel.STRUCTURAL)) == {(shard, IssueKind.MODIFIED)}
    full = _check(model, VerifyLevel.FULL)
    assert _kinds(full) == {(shard, IssueKind.CHECKSUM_MISMATCH)}
    assert not full.is_healthy and 0 < full.integrity_score < 1
    blob_name = os.path.basename(blob)
    assert not VerifiedRecord(model.layout).is_verified(blob_name)


async def test_a_touched_but_intact_file_is_cleared_by_the_full_level(model: Model) -> None:
    shard = model.shard()
    blob = model.blob(shard)
    os.utime(blob, ns=(1, 1))
    assert _kinds(_check(model, VerifyLevel.QUICK)) == {(shard, IssueKind.MODIFIED)}
    assert _check(model, VerifyLevel.FULL).is_healthy
    assert _check(model, VerifyLevel.QUICK).is_healthy  # re-recorded as verified


async def test_truncation_and_error_pages_are_named_at_the_structural_level(
    model: Model,
) -> None:
    shard = model.shard()
    model.blob(shard).write_bytes(b"<html><body>502 Bad Gateway</body></html>")
    assert _kinds(_check(model, VerifyLevel.QUICK)) == {(shard, IssueKind.TRUNCATED)}
    assert _kinds(_check(model, VerifyLevel.STRUCTURAL)) == {(shard, IssueKind.ERROR_PAGE)}


async def test_a_deleted_blob_is_missing_at_the_quick_level(model: Model) -> None:
    shard = model.shard()
    model.blob(shard).unlink()
    result = _check(model, VerifyLevel.QUICK)
    assert _kinds(result) == {(shard, IssueKind.MISSING)}
    structural = _check(model, VerifyLevel.STRUCTURAL)
    assert (shard, IssueKind.MISSING) in _kinds(structural)
    assert any(i.kind is IssueKind.INCOMPLETE_SHARD_SET for i in structural.issues)


async def test_a_stray_file_in_the_snapshot_is_named_but_not_unhealthy(model: Model) -> None:
    stray = model.snapshot / "transformer" / "diffusion_pytorch_model-old.safetensors"
    stray.write_bytes(b"leftover")
    for level in (VerifyLevel.QUICK, VerifyLevel.STRUCTURAL):
        result = _check(model, level)
        assert result.is_healthy and result.integrity_score == 1.0
        [issue] = result.issues
        assert issue.kind is IssueKind.UNEXPECTED_FILE and issue.category == "unexpected"
        assert issue.path == "transformer/diffusion_pytorch_model-old.safetensors"
        assert str(stray) in issue.detail and "unexpected" in result.issues


async def test_verified_shard_indexes_are_not_parsed_again(model: Model) -> None:
    assert _check(model, VerifyLevel.STRUCTURAL).is_healthy
    index = next(f for f in model.target.files if f.path.endswith(".safetensors.index.json"))
    recorded = model.layout.records_dir / "indexes" / f"{index.blob_name}.json"
    assert recorded.is_file()  # its shard names, keyed by the blob's content hash

    shard = model.shard()
    os.unlink(model.snapshot / shard)  # the recorded names still find the gap
    kinds = _kinds(_check(model, VerifyLevel.STRUCTURAL))
    assert (index.path, IssueKind.INCOMPLETE_SHARD_SET) in kinds

    # An index changed on disk is not its blob any more: it is read and judged afresh.
    blob = model.blob(index.path)
    blob.write_bytes(b"{ not json".ljust(index.size_bytes))  # same size: only parsing tells
    assert (index.path, IssueKind.BAD_HEADER) in _kinds(_check(model, VerifyLevel.STRUCTURAL))
