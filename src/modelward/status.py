"""Per-model status (the seed's DetailedModelStatus), derived from the store and the jobs.

Nothing here is guessed: every field comes from the files on disk, the verification
records, a running download or repair, and the health monitor's records. Fields whose
sources arrive with later layers (usage analytics, updates) keep their neutral defaults
until then.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from modelward.errors import ModelwardError, StoreError
from modelward.health import ModelHealthMonitor
from modelward.sources import Target
from modelward.store import FileState, LocalModel
from modelward.transfer import DownloadProgress, DownloadStatus, EnhancedModelDownloader
from modelward.transfer.progress import MB

logger = logging.getLogger(__name__)


class ModelAvailabilityStatus(StrEnum):
    """The one state a model is in."""

    MISSING = "missing"
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    PAUSED = "paused"
    VERIFYING = "verifying"
    AVAILABLE = "available"
    CORRUPTED = "corrupted"
    REPAIRING = "repairing"
    UPDATING = "updating"
    FAILED = "failed"


@dataclass(slots=True)
class DetailedModelStatus:
    """Everything known about one model's availability (the seed's fields that exist so far)."""

    model_id: str
    is_available: bool
    is_loaded: bool
    size_mb: float
    availability_status: ModelAvailabilityStatus
    download_progress: float | None = None
    missing_files: list[str] = field(default_factory=list)
    integrity_score: float = 1.0
    last_health_check: datetime | None = None
    performance_score: float = 1.0
    corruption_detected: bool = False
    usage_frequency: float = 0.0
    last_used: datetime | None = None
    average_generation_time: float | None = None
    can_pause_download: bool = False
    can_resume_download: bool = False
    estimated_download_time: timedelta | None = None
    current_version: str = ""
    latest_version: str = ""
    update_available: bool = False
    # Beyond the seed: facts a person needs to act on the status.
    usable_for: list[str] = field(default_factory=list)
    """Tasks, resolutions and GPU memory, from the catalog."""
    repo_id: str = ""
    revision: str = ""
    local_path: str | None = None
    size_bytes: int = 0
    present_bytes: int = 0
    verified_bytes: int = 0
    error_code: str | None = None
    error_message: str | None = None
    error_hint: str | None = None


_JOB_STATES = {
    DownloadStatus.QUEUED: ModelAvailabilityStatus.QUEUED,
    DownloadStatus.DOWNLOADING: ModelAvailabilityStatus.DOWNLOADING,
    DownloadStatus.VERIFYING: ModelAvailabilityStatus.VERIFYING,
    DownloadStatus.PAUSED: ModelAvailabilityStatus.PAUSED,
    DownloadStatus.FAILED: ModelAvailabilityStatus.FAILED,
}


async def model_status(
    downloader: EnhancedModelDownloader,
    model_id: str,
    *,
    resolve_remote: bool = True,
    health: ModelHealthMonitor | None = None,
    hash_unknown: bool = True,
) -> DetailedModelStatus:
    """Build the status of ``model_id`` from disk, records, the running download and (with
    ``health``) the health monitor's checks, repairs and performance records.

    ``hash_unknown=False`` never reads file contents: a blob changed since it was verified
    counts as damaged, one never verified as partial (for frequent background looks)."""
    manager = downloader.manager
    spec = manager.spec(model_id)
    progress = downloader.progress.get(model_id)
    target = await asyncio.to_thread(manager.known_target, model_id)
    error: ModelwardError | None = None
    if target is None and resolve_remote and not downloader.is_running(model_id):
        try:
            target = await downloader.source(model_id).resolve(spec)
            await asyncio.to_thread(manager.remember, target)
        except OSError as exc:
            error = StoreError(
                f"cannot write modelward's records under {manager.home}: {exc.strerror or exc}",
                hint="Point MODELWARD_HOME at a writable directory.",
            )
        except ModelwardError as exc:
            error = exc
            logger.info("cannot resolve %s: %s", model_id, exc)
    running = downloader.is_running(model_id)
    local = (
        await manager.inspect(
            target,
            verify_unknown=hash_unknown and not running,
            changed_is_damaged=not hash_unknown and not running,
        )
        if target
        else None
    )
    status = DetailedModelStatus(
        model_id=model_id,
        is_available=False,
        is_loaded=False,
        size_mb=(spec.expected_size_bytes or 0) / MB,
        availability_status=ModelAvailabilityStatus.MISSING,
        repo_id=spec.repo,
        revision=spec.revision,
        size_bytes=spec.expected_size_bytes or 0,
        usable_for=spec.usable_for(),
    )
    if target is not None and local is not None:
        _fill_from_disk(status, target, local)
    fetching = downloader.running_commit(model_id)
    _fill_from_job(
        status, progress, running, updating=fetching not in (None, status.current_version)
    )
    status.is_loaded = manager.in_use(model_id)
    if health is not None:
        await _fill_from_health(status, health)
    if error is not None and status.availability_status is ModelAvailabilityStatus.MISSING:
        status.error_code, status.error_message, status.error_hint = (
            error.code,
            error.message,
            error.hint,
        )
    return status


def _fill_from_disk(status: DetailedModelStatus, target: Target, local: LocalModel) -> None:
    status.size_bytes = target.size_bytes
    status.size_mb = target.size_bytes / MB
    status.missing_files = local.missing_files
    status.present_bytes = local.present_bytes
    status.verified_bytes = local.verified_bytes
    status.current_version = target.commit if local.complete else ""
    damaged = sum(f.file.size_bytes for f in local.files if f.state is FileState.DAMAGED)
    status.corruption_detected = damaged > 0
    status.integrity_score = 1.0 - damaged / target.size_bytes if target.size_bytes else 1.0
    if local.complete:
        status.is_available = True
        status.availability_status = ModelAvailabilityStatus.AVAILABLE
        status.local_path = str(local.snapshot_dir)
    elif status.corruption_detected:
        status.availability_status = ModelAvailabilityStatus.CORRUPTED
    elif local.has_partial_data:
        # An interrupted download (a crash, a Ctrl-C) is paused: its bytes wait to be resumed.
        status.availability_status = ModelAvailabilityStatus.PAUSED
        status.can_resume_download = True
    if target.size_bytes:
        status.download_progress = 100.0 * local.verified_bytes / target.size_bytes


async def _fill_from_health(status: DetailedModelStatus, health: ModelHealthMonitor) -> None:
    deep = await asyncio.to_thread(health.history.latest_for, status.model_id)
    if deep is not None:
        status.last_health_check = datetime.fromtimestamp(deep.checked_at, UTC)
    performance = await health.performance_health(status.model_id)
    status.performance_score = performance.performance_score
    if status.model_id in health.repairing:
        # The repair's download shows as downloading; what a person needs to know is why.
        status.availability_status = ModelAvailabilityStatus.REPAIRING
        status.is_available = False
        status.local_path = None


def _fill_from_job(
    status: DetailedModelStatus,
    progress: DownloadProgress | None,
    running: bool,
    *,
    updating: bool,
) -> None:
    if progress is None:
        return
    if status.is_available:
        if running and updating:
            # A newer version is on its way beside the one served, which stays usable.
            status.availability_status = ModelAvailabilityStatus.UPDATING
            status.download_progress = progress.progress_percent
            status.can_pause_download = progress.can_pause
            if progress.eta_seconds is not None:
                status.estimated_download_time = timedelta(seconds=progress.eta_seconds)
        return
    job_state = _JOB_STATES.get(progress.status)
    if job_state is None or (
        not running
        and job_state in (ModelAvailabilityStatus.DOWNLOADING, ModelAvailabilityStatus.QUEUED)
    ):
        return
    status.availability_status = job_state
    if running:
        status.download_progress = progress.progress_percent
    status.can_pause_download = progress.can_pause and running
    status.can_resume_download = not running and job_state in (
        ModelAvailabilityStatus.PAUSED,
        ModelAvailabilityStatus.FAILED,
    )
    if progress.eta_seconds is not None:
        status.estimated_download_time = timedelta(seconds=progress.eta_seconds)
    if job_state is ModelAvailabilityStatus.FAILED and progress.error_message:
        status.error_message = progress.error_message
