"""Per-model status (the seed's DetailedModelStatus), derived in one place for every surface.

Nothing here is guessed: every field comes from the files on disk, the verification
records, the model's job and the progress tracker (one account of both, from
:func:`modelward.transfer.progress.derive_progress`), and the health monitor's records. The
API's status, download and queue views, the ``model.state`` events and the CLI all read
this derivation, so they show the same state, bytes and percentage at the same moment.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from modelward.errors import ModelwardError, StoreError
from modelward.health import ModelHealthMonitor
from modelward.health.checker import integrity_share
from modelward.sources import Target
from modelward.store import FileState, LocalModel
from modelward.transfer import DownloadProgress, DownloadStatus, EnhancedModelDownloader
from modelward.units import MB

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
    """Decimal MB (10**6 bytes), like every ``*_mb`` figure; ``size_bytes`` is exact."""
    availability_status: ModelAvailabilityStatus
    download_progress: float | None = None
    """Percent of the model's bytes on disk (the figure ``/models/{id}/download`` gives)."""
    missing_files: list[str] = field(default_factory=list)
    """Files not on disk yet, or only partly."""
    integrity_score: float | None = None
    """Share of the checked bytes found intact; None when no file was checked yet, below
    1 whenever a checked file is damaged. Missing files do not lower it: completeness is
    ``download_progress`` and ``missing_files``."""
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
    downloaded_bytes: int = 0
    """Bytes on disk: verified files and the recorded ranges of partial ones (while a job
    runs, as its latest progress event says)."""
    damaged_files: list[str] = field(default_factory=list)
    """Files on disk whose bytes a check found wrong (repair mends them)."""
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
    target, error = await _target(downloader, model_id, resolve_remote)
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
    served = await asyncio.to_thread(manager.local_commit, model_id)
    # The same look at the disk feeds the download figures: one moment, one account.
    progress = downloader.progress_now(model_id, local)
    status = DetailedModelStatus(
        model_id=model_id,
        is_available=False,
        is_loaded=manager.in_use(model_id),
        size_mb=(spec.expected_size_bytes or 0) / MB,
        availability_status=ModelAvailabilityStatus.MISSING,
        repo_id=spec.repo,
        revision=spec.revision,
        size_bytes=spec.expected_size_bytes or 0,
        usable_for=spec.usable_for(),
    )
    if target is not None and local is not None:
        _fill_from_disk(status, target, local, served)
    fetching = downloader.running_commit(model_id)
    _fill_from_job(status, progress, updating=fetching not in (None, status.current_version))
    if health is not None:
        await _fill_from_health(status, health)
    if error is not None and status.availability_status is ModelAvailabilityStatus.MISSING:
        status.error_code, status.error_message, status.error_hint = (
            error.code,
            error.message,
            error.hint,
        )
    return status


async def _target(
    downloader: EnhancedModelDownloader, model_id: str, resolve_remote: bool
) -> tuple[Target | None, ModelwardError | None]:
    """The model's files as last resolved (asking the source, with ``resolve_remote``, for
    a model never seen), or why they are not known."""
    manager = downloader.manager
    target = await asyncio.to_thread(manager.known_target, model_id)
    if target is not None or not resolve_remote or downloader.is_running(model_id):
        return target, None
    try:
        target = await downloader.source(model_id).resolve(manager.spec(model_id))
        await asyncio.to_thread(manager.remember, target)
    except OSError as exc:
        return target, StoreError(
            f"cannot write modelward's records under {manager.home}: {exc.strerror or exc}",
            hint="Point MODELWARD_HOME at a writable directory.",
        )
    except ModelwardError as exc:
        logger.info("cannot resolve %s: %s", model_id, exc)
        return None, exc
    return target, None


def _fill_from_disk(
    status: DetailedModelStatus, target: Target, local: LocalModel, served: str | None
) -> None:
    status.size_bytes = target.size_bytes
    status.size_mb = target.size_bytes / MB
    status.damaged_files = [f.file.path for f in local.files if f.state is FileState.DAMAGED]
    status.missing_files = [p for p in local.missing_files if p not in status.damaged_files]
    status.present_bytes = local.present_bytes
    status.verified_bytes = local.verified_bytes
    status.corruption_detected = bool(status.damaged_files)
    status.integrity_score = _integrity(local)
    if served == target.commit or local.complete:
        # A damaged model is still this version at this path: the card must not lose them.
        status.current_version = target.commit
        status.local_path = str(local.snapshot_dir)
    if local.complete:
        status.is_available = True
        status.availability_status = ModelAvailabilityStatus.AVAILABLE
    elif status.corruption_detected:
        status.availability_status = ModelAvailabilityStatus.CORRUPTED


def _integrity(local: LocalModel) -> float | None:
    """The one integrity figure (:func:`~modelward.health.checker.integrity_share`) over
    the files checked: verified ones intact, damaged ones not; partial and missing files
    were not checked."""
    return integrity_share(
        (f.file.size_bytes, f.state is not FileState.DAMAGED)
        for f in local.files
        if f.state in (FileState.VERIFIED, FileState.UNLINKED, FileState.DAMAGED)
    )


async def _fill_from_health(status: DetailedModelStatus, health: ModelHealthMonitor) -> None:
    checked = await health.last_deep_check(status.model_id)
    if checked is not None:
        status.last_health_check = datetime.fromtimestamp(checked.checked_at, UTC)
    performance = await health.performance_health(status.model_id)
    status.performance_score = performance.performance_score
    if status.model_id in health.repairing:
        # The repair's download shows as downloading; what a person needs to know is why.
        status.availability_status = ModelAvailabilityStatus.REPAIRING
        status.is_available = False


def _fill_from_job(
    status: DetailedModelStatus, progress: DownloadProgress, *, updating: bool
) -> None:
    """The download's share of the status: figures always, the state when the job decides
    it (queued, downloading, verifying, paused, failed)."""
    status.downloaded_bytes = progress.downloaded_bytes
    if progress.total_bytes:
        status.download_progress = progress.progress_percent
    if progress.eta_seconds is not None and progress.status is not DownloadStatus.COMPLETED:
        status.estimated_download_time = timedelta(seconds=progress.eta_seconds)
    job_state = _JOB_STATES.get(progress.status)
    if status.is_available:
        if progress.can_pause and updating:
            # A newer version is on its way beside the one served, which stays usable.
            status.availability_status = ModelAvailabilityStatus.UPDATING
            status.can_pause_download = True
        return
    if job_state is None:
        return
    status.availability_status = job_state
    status.can_pause_download = progress.can_pause
    status.can_resume_download = progress.can_resume
    if job_state is ModelAvailabilityStatus.FAILED and progress.error_message:
        status.error_message = progress.error_message
        status.error_code = progress.error_code
