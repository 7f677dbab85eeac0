"""Adopting a folder that already holds a model: real files, the local hub over real sockets."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from modelward.devhub import DevHub
from modelward.errors import ConfigError, StoreError
from modelward.runtime import Runtime
from modelward.sources import Target
from modelward.store import RepoLayout
from modelward.store.adopt import AdoptMode, AdoptOutcome, AdoptReport, adopt_folder
from modelward.store.locks import blob_file_lock
from modelward.store.records import load_block_table
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, make_settings, small_disk

DAMAGED = "transformer/diffusion_pytorch_model-00002-of-00003.safetensors"
DELETED = "model_index.json"


@pytest.fixture
async def other_snapshot(tmp_path: Path, hub: DevHub) -> Path:
    """The model downloaded into a separate store: an HF cache snapshot of symlinks."""
    async with Runtime(make_settings(tmp_path / "other", hub.url)) as other:
        assert (await other.downloader.download_with_retry(TI2V)).success
    snapshots = tmp_path / "other" / "cache" / f"models--{TI2V_REPO.replace('/', '--')}"
    return next((snapshots / "snapshots").iterdir())


@pytest.fixture
def local_dir(tmp_path: Path, other_snapshot: Path) -> Path:
    """A plain folder of real files, as ``hf download --local-dir`` leaves one."""
    folder = tmp_path / "local"
    shutil.copytree(other_snapshot, folder, symlinks=False)
    return folder


@pytest.fixture
async def target(runtime: Runtime) -> Target:
    return await runtime.downloader.source(TI2V).resolve(runtime.catalog.get(TI2V))


def _layout(runtime: Runtime) -> RepoLayout:
    return RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)


async def _adopt(runtime: Runtime, target: Target, folder: Path, mode: AdoptMode) -> AdoptReport:
    return await asyncio.to_thread(adopt_folder, runtime.manager, target, folder, mode)


def _fetched(hub: DevHub) -> set[str]:
    """Paths of file bodies the hub was asked for (metadata under /api/ aside)."""
    return {r.path for r in hub.request_log if r.method == "GET" and "/api/" not in r.path}


def _damage(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.seek(path.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))


async def test_link_adopts_every_file_and_the_download_fetches_nothing(
    hub: DevHub, runtime: Runtime, target: Target, local_dir: Path
) -> None:
    hashed: list[int] = []
    report = await asyncio.to_thread(
        adopt_folder, runtime.manager, target, local_dir, AdoptMode.LINK, hashed.append
    )
    assert report.complete and report.to_fetch == []
    assert {f.outcome for f in report.files} == {AdoptOutcome.ADOPTED}
    assert report.adopted_bytes == target.size_bytes == sum(hashed)
    layout = _layout(runtime)
    for file in target.files:
        blob = layout.blob_path(file.blob_name)
        assert blob.stat().st_ino == (local_dir / file.path).stat().st_ino, file.path
        assert load_block_table(layout, file.blob_name) is not None, file.path
    assert layout.ref_path("main").read_text() == target.commit
    assert_store_invariants(runtime.settings.cache_dir)
    assert (await runtime.manager.inspect(target, verify_unknown=False)).complete

    hub.clear_log()
    result = await runtime.downloader.download_with_retry(TI2V)
    assert result.success and result.bytes_fetched == 0
    assert _fetched(hub) == set(), "an adopted model needs no file from the hub"


async def test_damaged_and_deleted_files_are_left_for_the_download(
    hub: DevHub, runtime: Runtime, target: Target, local_dir: Path
) -> None:
    _damage(local_dir / DAMAGED)
    (local_dir / DELETED).unlink()
    damaged_bytes = (local_dir / DAMAGED).read_bytes()

    report = await _adopt(runtime, target, local_dir, AdoptMode.LINK)
    outcomes = {f.path: f.outcome for f in report.files}
    assert outcomes.pop(DAMAGED) is AdoptOutcome.CHECKSUM_MISMATCH
    assert outcomes.pop(DELETED) is AdoptOutcome.MISSING
    assert set(outcomes.values()) == {AdoptOutcome.ADOPTED}
    assert sorted(report.to_fetch) == sorted([DAMAGED, DELETED]) and not report.complete
    layout = _layout(runtime)
    assert not layout.ref_path("main").exists(), "an incomplete model gets no ref"
    assert (local_dir / DAMAGED).read_bytes() == damaged_bytes, "a mismatch stays untouched"
    assert_store_invariants(runtime.settings.cache_dir)
    local = await runtime.manager.inspect(target, verify_unknown=False)
    assert sorted(local.missing_files) == sorted([DAMAGED, DELETED])

    hub.clear_log()
    result = await runtime.downloader.download_with_retry(TI2V)
    assert result.success
    expected = {DAMAGED: target.file(DAMAGED).blob_name, DELETED: DELETED}
    fetched = _fetched(hub)
    for path in fetched:
        assert any(path.endswith(p) or b in path for p, b in expected.items()), path
    for name, blob in expected.items():
        assert any(p.endswith(name) or blob in p for p in fetched), f"{name} was not fetched"
    assert result.bytes_fetched == target.file(DAMAGED).size_bytes + target.file(DELETED).size_bytes
    assert layout.ref_path("main").read_text() == target.commit
    assert_store_invariants(runtime.settings.cache_dir)


async def test_a_file_of_the_wrong_size_is_never_hashed(
    runtime: Runtime, target: Target, local_dir: Path
) -> None:
    with (local_dir / DAMAGED).open("r+b") as fh:
        fh.truncate(100)
    hashed: list[int] = []
    report = await asyncio.to_thread(
        adopt_folder, runtime.manager, target, local_dir, AdoptMode.LINK, hashed.append
    )
    assert report.to_fetch == [DAMAGED]
    assert {f.path: f.outcome for f in report.files}[DAMAGED] is AdoptOutcome.SIZE_MISMATCH
    assert sum(hashed) == target.size_bytes - target.file(DAMAGED).size_bytes


async def test_move_takes_adopted_files_out_of_the_folder_and_leaves_mismatched_ones(
    runtime: Runtime, target: Target, local_dir: Path
) -> None:
    _damage(local_dir / DAMAGED)
    inodes: dict[str, int] = {f.path: (local_dir / f.path).stat().st_ino for f in target.files}

    report = await _adopt(runtime, target, local_dir, AdoptMode.MOVE)
    assert report.to_fetch == [DAMAGED]
    layout = _layout(runtime)
    for file in report.adopted:
        assert not (local_dir / file.path).exists(), file.path
        assert file.detail == "moved"
        blob = layout.blob_path(target.file(file.path).blob_name)
        assert blob.stat().st_ino == inodes[file.path], "renamed, not copied"
    assert (local_dir / DAMAGED).is_file()
    assert not layout.ref_path("main").exists()
    assert_store_invariants(runtime.settings.cache_dir)


async def test_adopting_twice_finds_everything_already_present(
    runtime: Runtime, target: Target, local_dir: Path
) -> None:
    assert (await _adopt(runtime, target, local_dir, AdoptMode.LINK)).complete
    again = await _adopt(runtime, target, local_dir, AdoptMode.MOVE)
    assert {f.outcome for f in again.files} == {AdoptOutcome.ALREADY_PRESENT}
    assert again.complete and again.adopted_bytes == 0
    assert all((local_dir / f.path).is_file() for f in target.files), "nothing was touched"


async def test_move_from_an_hf_cache_snapshot_links_instead(
    tmp_path: Path, runtime: Runtime, target: Target, other_snapshot: Path
) -> None:
    report = await _adopt(runtime, target, other_snapshot, AdoptMode.MOVE)
    assert report.complete and len(report.adopted) == len(target.files)
    assert all("not moved" in f.detail for f in report.adopted)
    layout = _layout(runtime)
    for file in target.files:
        source = other_snapshot / file.path
        assert source.is_symlink() and source.resolve().is_file(), "the other cache is intact"
        assert layout.blob_path(file.blob_name).stat().st_ino == source.stat().st_ino
    assert_store_invariants(runtime.settings.cache_dir)
    assert_store_invariants(tmp_path / "other" / "cache")


async def test_across_disks_link_is_refused_and_move_copies(
    tmp_path: Path, runtime: Runtime, target: Target, local_dir: Path
) -> None:
    with small_disk(tmp_path / "disk", "64m") as disk:
        folder = Path(shutil.copytree(local_dir, disk / "model"))
        with pytest.raises(StoreError) as refused:
            await _adopt(runtime, target, folder, AdoptMode.LINK)
        assert "--move" in refused.value.hint and "another disk" in refused.value.message
        layout = _layout(runtime)
        assert list(layout.blobs_dir.iterdir()) == [], "nothing half-adopted"

        report = await _adopt(runtime, target, folder, AdoptMode.MOVE)
        assert report.complete
        assert all("copied across disks" in f.detail for f in report.adopted)
        assert not any(p.is_file() for p in folder.rglob("*")), "sources removed after the copy"
    assert layout.ref_path("main").read_text() == target.commit
    assert_store_invariants(runtime.settings.cache_dir)


async def test_adoption_waits_for_a_download_holding_the_blob(
    runtime: Runtime, target: Target, local_dir: Path
) -> None:
    layout = _layout(runtime)
    first = target.files[0]
    lock = blob_file_lock(layout, first.blob_name)
    lock.acquire()
    try:
        task = asyncio.create_task(_adopt(runtime, target, local_dir, AdoptMode.LINK))
        await asyncio.sleep(0.5)
        assert not task.done() and not layout.blob_path(first.blob_name).exists()
    finally:
        lock.release()
    assert (await task).complete


async def test_bad_folders_are_refused_with_what_to_do(
    tmp_path: Path, runtime: Runtime, target: Target, local_dir: Path
) -> None:
    with pytest.raises(ConfigError) as missing:
        await _adopt(runtime, target, tmp_path / "nowhere", AdoptMode.LINK)
    assert "does not exist" in missing.value.message and "--local-dir" in missing.value.hint
    with pytest.raises(ConfigError) as not_folder:
        await _adopt(runtime, target, local_dir / DELETED, AdoptMode.LINK)
    assert "not a folder" in not_folder.value.message and not_folder.value.hint

    assert (await _adopt(runtime, target, local_dir, AdoptMode.LINK)).complete
    with pytest.raises(StoreError) as blobs:
        await _adopt(runtime, target, _layout(runtime).blobs_dir, AdoptMode.MOVE)
    assert "blobs folder" in blobs.value.message and blobs.value.hint
