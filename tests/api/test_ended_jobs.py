"""An ended job does not decide a model's state: once its job is over, the store does, so
the download, status and queue views agree after files are removed or completed by
someone else."""

from __future__ import annotations

import asyncio
from pathlib import Path

from modelward.devhub import Fault, FaultPlan
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.store import RepoLayout
from modelward.transfer import DownloadResult
from tests.api.conftest import AUTH, StartService
from tests.conftest import TI2V, TI2V_REPO


def test_after_rm_the_three_views_agree_the_model_is_missing(
    start_service: StartService,
) -> None:
    live = start_service()
    api = live.client
    assert api.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    live.wait_for_progress(TI2V, lambda p: p["status"] == "completed")
    manifest = live.hub.manifest(TI2V_REPO)
    settings = live.runtime.settings
    layout = RepoLayout(settings.cache_dir, settings.home, TI2V_REPO)
    victim = max(manifest.files, key=lambda f: f.size)
    link = layout.snapshot_dir(manifest.commit) / victim.path
    Path(link.resolve()).unlink()  # the blob: the bytes are gone, not only the link
    link.unlink()

    download = api.get(f"/api/v1/models/{TI2V}/download").json()
    status = api.get(f"/api/v1/models/{TI2V}/status").json()
    queue = api.get("/api/v1/queue").json()["data"]
    assert status["availability_status"] == "missing"
    assert download["status"] == "not_started", download["status"]
    assert victim.path in status["missing_files"]
    assert download["progress_percent"] == status["download_progress"] < 100.0
    assert download["downloaded_bytes"] == status["downloaded_bytes"]
    assert download["downloaded_bytes"] == manifest.total_size - victim.size
    assert not download["can_resume"] and not download["can_pause"]
    assert [e for e in queue if e["model_id"] == TI2V] == []


def test_a_failed_job_completed_by_another_process_is_completed(
    start_service: StartService,
) -> None:
    live = start_service(max_retries=0)
    api = live.client
    live.hub.set_faults(FaultPlan([Fault.http_status(500, path_glob="*model_index.json")]))
    assert api.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    failed = live.wait_for_progress(TI2V, lambda p: p["status"] == "failed")
    assert failed["can_resume"]

    # Another process (a pull with its own runtime on the same store) completes it.
    live.hub.clear_faults()
    result = asyncio.run(_pull(live.runtime.settings))
    assert result.success, result.error_message

    download = api.get(f"/api/v1/models/{TI2V}/download").json()
    status = api.get(f"/api/v1/models/{TI2V}/status").json()
    assert status["availability_status"] == "available"
    assert download["status"] == "completed"
    assert not download["can_resume"] and download["error_message"] is None
    assert download["progress_percent"] == status["download_progress"] == 100.0
    queue = api.get("/api/v1/queue").json()["data"]
    assert [e for e in queue if e["model_id"] == TI2V] == []


async def _pull(settings: Settings) -> DownloadResult:
    async with Runtime(settings) as runtime:
        return await runtime.downloader.download_with_retry(TI2V)
