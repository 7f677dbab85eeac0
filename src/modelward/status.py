"""Per-model status (the seed's DetailedModelStatus), derived in one place for every surface.

Nothing here is guessed: every field comes from the files on disk, the verification
records, the model's job and the progress tracker (one account of both, from
:func:`modelward.transfer.progress.derive_progress`), and the health monitor's records. The
API's status, download and queue views, the ``model.state`` events and the CLI all read
this derivation, so they show the same state, bytes and percentage at the same moment.

Reading those facts is what costs, so what is read is kept between reads and shared by
them, never derived twice differently: the look at the store per repository
(:mod:`modelward.store.look`: taken again when a directory it depends on changes, at the
latest after two seconds), the database's and the update records' facts for every model in
one read (:mod:`modelward.availability.facts`: read again after any database write of this
process, or two seconds), and a look's share of the status once per look. The job and the
tracker are in memory. :func:`derive_status` is the derivation itself; it does no I/O.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from modelward.errors import ModelwardError, StoreError
from modelward.health import ModelHealthMonitor
from modelward.health.checker import IntegrityResult, integrity_share
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
    waiting: str | None = None
    """Why the running download waits ("rate-limited by the hub, resuming in 12 s")."""
    resume_at: datetime | None = None
    metadata_from: str | None = None
    """Where the download's files and checksums came from, when not the Hub (a mirror's
    manifest while the Hub is unreachable or offline mode is on)."""


_JOB_STATES = {
    DownloadStatus.QUEUED: ModelAvailabilityStatus.QUEUED,
    DownloadStatus.DOWNLOADING: ModelAvailabilityStatus.DOWNLOADING,
    DownloadStatus.VERIFYING: ModelAvailabilityStatus.VERIFYING,
    DownloadStatus.PAUSED: ModelAvailabilityStatus.PAUSED,
    DownloadStatus.FAILED: ModelAvailabilityStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class StoreFacts:
    """One look at the store for a model: what it holds of the model's known target (None:
    its files were never resolved here) and the commit its revision points at."""

    local: LocalModel | None
    served: str | None


@dataclass(frozen=True, slots=True)
class HealthFacts:
    """What the health monitor knows of a model, as its status shows it."""

    last_deep_check: IntegrityResult | None
    performance_score: float


def look_at_store(
    downloader: EnhancedModelDownloader,
    model_id: str,
    *,
    hash_unknown: bool = True,
    checked: bool = False,
) -> StoreFacts:
    """The model's look at the store, kept while nothing changed (blocking; see
    :mod:`modelward.store.look`; ``checked``: the repo was validated in this pass)."""
    manager = downloader.manager
    running = downloader.is_running(model_id)
    local = manager.look_known(
        model_id,
        verify_unknown=hash_unknown and not running,
        changed_is_damaged=not hash_unknown and not running,
        checked=checked,
    )
    return StoreFacts(local, manager.local_commit(model_id, checked=checked))


async def model_status(
    downloader: EnhancedModelDownloader,
    model_id: str,
    *,
    resolve_remote: bool = True,
    health: ModelHealthMonitor | None = None,
    hash_unknown: bool = True,
    store: StoreFacts | None = None,
    health_facts: HealthFacts | None = None,
) -> DetailedModelStatus:
    """Build the status of ``model_id`` from disk, records, the running download and (with
    ``health``) the health monitor's checks, repairs and performance records.

    ``hash_unknown=False`` never reads file contents: a blob changed since it was verified
    counts as damaged, one never verified as partial (for frequent background looks).
    ``store`` and ``health_facts``, when given, are those facts read already (for many
    models in one go); else they are read here."""
    if store is None:
        store = await asyncio.to_thread(
            look_at_store, downloader, model_id, hash_unknown=hash_unknown
        )
    error = None
    if store.local is None and resolve_remote and not downloader.is_running(model_id):
        store, error = await _resolved(downloader, model_id, hash_unknown)
    if health is not None and health_facts is None:
        health_facts = await _health_facts(health, model_id)
    repairing = health is not None and model_id in health.repairing
    return derive_status(downloader, model_id, store, health_facts, repairing, error)


def derive_status(
    downloader: EnhancedModelDownloader,
    model_id: str,
    store: StoreFacts,
    health: HealthFacts | None,
    repairing: bool,
    error: ModelwardError | None = None,
) -> DetailedModelStatus:
    """The one derivation of a status from the facts read (no I/O)."""
    manager = downloader.manager
    spec = manager.spec(model_id)
    local = store.local
    # The same look at the disk feeds the download figures: one moment, one account.
    progress = downloader.progress_now(model_id, local, with_files=False)
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
    if local is not None:
        _fill_from_disk(status, local.target, local, store.served)
    fetching = downloader.running_commit(model_id)
    _fill_from_job(status, progress, updating=fetching not in (None, status.current_version))
    if health is not None:
        _fill_from_health(status, health, repairing)
    if error is not None and status.availability_status is ModelAvailabilityStatus.MISSING:
        status.error_code, status.error_message, status.error_hint = (
            error.code,
            error.message,
            error.hint,
        )
    return status


def records_write_error(home: object, exc: OSError) -> StoreError:
    """Why a model's resolved files could not be remembered: its records are not writable."""
    return StoreError(
        f"cannot write modelward's records under {home}: {exc.strerror or exc}",
        hint="Point MODELWARD_HOME at a writable directory.",
    )


async def _resolved(
    downloader: EnhancedModelDownloader, model_id: str, hash_unknown: bool
) -> tuple[StoreFacts, ModelwardError | None]:
    """Ask the source for the files of a model never resolved here, remember them and look
    at the store again; or why they are not known."""
    manager = downloader.manager
    target = None
    try:
        target = await downloader.source(model_id).resolve(manager.spec(model_id))
        await asyncio.to_thread(manager.remember, target)
    except OSError as exc:
        error: ModelwardError = records_write_error(manager.home, exc)
        local = await manager.inspect(target) if target is not None else None
        return StoreFacts(local, None), error
    except ModelwardError as exc:
        logger.info("cannot resolve %s: %s", model_id, exc)
        return StoreFacts(None, None), exc
    store = await asyncio.to_thread(look_at_store, downloader, model_id, hash_unknown=hash_unknown)
    return store, None


async def _health_facts(health: ModelHealthMonitor, model_id: str) -> HealthFacts:
    saved = await asyncio.to_thread(health.history.latest_for, model_id)
    performance = await health.performance_health(model_id)
    return HealthFacts(health.newest_deep(model_id, saved), performance.performance_score)


@dataclass(frozen=True, slots=True)
class _DiskPart:
    """What a status takes from one look at the store, computed once per look (a kept look
    serves many reads, and every entry of the same repo and globs)."""

    damaged: tuple[str, ...]
    missing: tuple[str, ...]
    integrity: float | None

    @classmethod
    def of(cls, local: LocalModel) -> _DiskPart:
        """The part of ``local``, from its memo or computed now."""
        part = local.derived.get(cls)
        if not isinstance(part, cls):
            damaged = tuple(f.file.path for f in local.files if f.state is FileState.DAMAGED)
            missing = tuple(p for p in local.missing_files if p not in damaged)
            part = local.derived[cls] = cls(damaged, missing, _integrity(local))
        return part


def _fill_from_disk(
    status: DetailedModelStatus, target: Target, local: LocalModel, served: str | None
) -> None:
    part = _DiskPart.of(local)
    status.size_bytes = local.size_bytes
    status.size_mb = local.size_bytes / MB
    status.damaged_files = list(part.damaged)
    status.missing_files = list(part.missing)
    status.present_bytes = local.present_bytes
    status.verified_bytes = local.verified_bytes
    status.corruption_detected = bool(part.damaged)
    status.integrity_score = part.integrity
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


def _fill_from_health(status: DetailedModelStatus, health: HealthFacts, repairing: bool) -> None:
    checked = health.last_deep_check
    if checked is not None:
        status.last_health_check = datetime.fromtimestamp(checked.checked_at, UTC)
    status.performance_score = health.performance_score
    if repairing:
        # The repair's download shows as downloading; what a person needs to know is why.
        status.availability_status = ModelAvailabilityStatus.REPAIRING
        status.is_available = False


def _fill_from_job(
    status: DetailedModelStatus, progress: DownloadProgress, *, updating: bool
) -> None:
    """The download's share of the status: figures always, the state when the job decides
    it (queued, downloading, verifying, paused, failed)."""
    status.downloaded_bytes = progress.downloaded_bytes
    status.waiting, status.resume_at = progress.waiting, progress.resume_at
    status.metadata_from = progress.metadata_from
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
