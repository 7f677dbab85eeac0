"""The store is the Hugging Face cache: huggingface_hub reads what modelward wrote, and
modelward reuses what huggingface_hub fetched."""

from __future__ import annotations

import asyncio
from pathlib import Path

import huggingface_hub

from modelward.devhub import DevHub
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus, model_status
from modelward.transfer import DownloadResult
from tests.conftest import TI2V, TI2V_REPO, make_settings, sha256_of


def _pull(settings_path: Path, hub: DevHub) -> DownloadResult:
    async def run() -> DownloadResult:
        async with Runtime(make_settings(settings_path, hub.url)) as rt:
            return await rt.downloader.download_with_retry(TI2V)

    return asyncio.run(run())


def test_huggingface_hub_reads_what_modelward_pulled(tmp_path: Path, threaded_hub: DevHub) -> None:
    assert _pull(tmp_path, threaded_hub).success
    manifest = threaded_hub.manifest(TI2V_REPO)
    cache = tmp_path / "cache"
    info = huggingface_hub.scan_cache_dir(cache)
    repos = {r.repo_id: r for r in info.repos}
    assert TI2V_REPO in repos, info.warnings
    assert repos[TI2V_REPO].size_on_disk == manifest.total_size
    assert not info.warnings
    revisions = {r.commit_hash for r in repos[TI2V_REPO].revisions}
    assert revisions == {manifest.commit}
    for f in manifest.files:
        path = huggingface_hub.hf_hub_download(
            TI2V_REPO, f.path, cache_dir=cache, local_files_only=True
        )
        assert sha256_of(Path(path)) == f.content_sha256, f.path


def test_a_repo_fetched_by_huggingface_hub_is_reused(tmp_path: Path, threaded_hub: DevHub) -> None:
    cache = tmp_path / "cache"
    huggingface_hub.snapshot_download(TI2V_REPO, cache_dir=cache, endpoint=threaded_hub.url)
    threaded_hub.clear_log()

    async def check() -> tuple[ModelAvailabilityStatus, DownloadResult]:
        async with Runtime(make_settings(tmp_path, threaded_hub.url)) as rt:
            status = await model_status(rt.downloader, TI2V)
            return status.availability_status, await rt.downloader.download_with_retry(TI2V)

    state, result = asyncio.run(check())
    assert state is ModelAvailabilityStatus.AVAILABLE
    assert result.success and result.bytes_fetched == 0
    file_requests = [r for r in threaded_hub.request_log if "/api/" not in r.path]
    assert file_requests == [], "nothing may be fetched again"
