"""The status fields a person reads on a model's card: damaged apart from missing, a
damaged model keeping its path and version, integrity only for what was checked (never
100% with files missing), and a verified pull counting as a check."""

from __future__ import annotations

import os
from pathlib import Path

from modelward.devhub import DevHub
from modelward.health import VerifyLevel
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus
from modelward.store.layout import RepoLayout
from tests.conftest import TI2V, TI2V_REPO


def _largest(hub: DevHub) -> tuple[str, str]:
    """Path and blob name of the repo's largest LFS file."""
    big = max((f for f in hub.manifest(TI2V_REPO).files if f.is_lfs), key=lambda f: f.size)
    return big.path, big.etag


def _layout(runtime: Runtime) -> RepoLayout:
    return RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)


async def test_a_damaged_file_is_damaged_not_missing_and_the_model_keeps_path_and_version(
    hub: DevHub, runtime: Runtime
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    commit = hub.manifest(TI2V_REPO).commit
    path, blob_name = _largest(hub)
    blob = Path(os.path.realpath(_layout(runtime).blob_path(blob_name)))
    blob.chmod(0o644)
    with blob.open("r+b") as fh:  # same size, other bytes: only hashing tells
        fh.seek(1000)
        fh.write(b"\x00" * 64)
    assert not (await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)).is_healthy

    status = await runtime.availability.status(TI2V)
    assert status.availability_status is ModelAvailabilityStatus.CORRUPTED
    assert status.damaged_files == [path] and status.missing_files == []
    assert status.corruption_detected and not status.is_available
    assert status.current_version == commit
    assert status.local_path == str(_layout(runtime).snapshot_dir(commit))
    assert status.integrity_score is not None and 0 < status.integrity_score < 1


async def test_integrity_is_none_before_anything_was_checked(hub: DevHub, runtime: Runtime) -> None:
    status = await runtime.availability.status(TI2V, resolve_remote=True)
    assert status.availability_status is ModelAvailabilityStatus.MISSING
    assert status.integrity_score is None and status.last_health_check is None
    assert status.downloaded_bytes == 0 and status.download_progress == 0.0
    report = await runtime.health.get_health_report()
    [absent] = [m for m in report.models if m.model_id == TI2V]
    assert absent.integrity_score is None


async def test_missing_files_lower_completeness_not_integrity(
    hub: DevHub, runtime: Runtime
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    path, blob_name = _largest(hub)
    _layout(runtime).blob_path(blob_name).unlink()

    status = await runtime.availability.status(TI2V)
    assert status.missing_files == [path] and status.damaged_files == []
    # Every file still on disk is intact: integrity speaks only of what was checked.
    assert status.integrity_score == 1.0
    assert status.downloaded_bytes == status.verified_bytes < status.size_bytes
    assert status.download_progress is not None and status.download_progress < 100.0
    # The files a model lacks keep it where it is served from.
    assert status.local_path is not None and status.current_version


async def test_a_verified_pull_counts_as_a_check(hub: DevHub, runtime: Runtime) -> None:
    assert (await runtime.availability.status(TI2V)).last_health_check is None
    assert (await runtime.downloader.download_with_retry(TI2V)).success

    status = await runtime.availability.status(TI2V)
    assert status.last_health_check is not None
    assert status.integrity_score == 1.0 and status.download_progress == 100.0
    await runtime.health.join_background()  # the record reaches the database too
    report = await runtime.health.get_health_report()
    [model] = [m for m in report.models if m.model_id == TI2V]
    assert model.last_health_check is not None and model.last_check_level == "full"
    assert not any(
        r.model_id == TI2V and r.message.endswith("last checked never")
        for r in report.recommendations
    )
