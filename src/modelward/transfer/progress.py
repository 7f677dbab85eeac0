"""Download progress as the seed defines it, the tracker that folds events into it, and
:func:`derive_progress`, the one account of a model's download every surface is given.

Why one account: the tracker knows the bytes of a running job first-hand, the store knows
what is on disk whoever wrote it, and the queue knows the job's state. Taken one by one they
disagree (a paused job's tracker still holds its last event; a partial file's size is its
full size, since it is made sparse before the first byte); taken together by one function,
every view of a model shows the same state and bytes at the same moment.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from modelward.events import Event, EventType
from modelward.sources.mirror import not_the_hub
from modelward.store.manager import FileState, LocalModel
from modelward.transfer.waits import RateLimitWaits, resume_time, waiting_note
from modelward.units import MB

SPEED_WINDOW_S = 5.0


class DownloadStatus(StrEnum):
    """Where a model's download stands."""

    NOT_STARTED = "not_started"
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    VERIFYING = "verifying"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class DownloadProgress:
    """A model's download at one moment (the seed's fields, plus per-byte figures)."""

    model_id: str
    status: DownloadStatus
    progress_percent: float
    downloaded_mb: float
    """Decimal MB (10**6 bytes), as every ``*_mb`` figure; the API carries the bytes."""
    total_mb: float
    speed_mbps: float
    """Decimal MB per second."""
    eta_seconds: float | None = None
    retry_count: int = 0
    max_retries: int = 3
    error_message: str | None = None
    error_code: str | None = None
    """The failure's code (``integrity-mismatch``, ``insufficient-space``...)."""
    can_pause: bool = True
    can_resume: bool = True
    can_cancel: bool = True
    downloaded_bytes: int = 0
    total_bytes: int = 0
    speed_bytes_per_s: float = 0.0
    files: dict[str, FileProgress] = field(default_factory=dict)
    waiting: str | None = None
    """Why the running job waits, counting down ("rate-limited by the hub, resuming in
    12 s"); None once its bytes flow again. Rate-limit waits are no retries."""
    resume_at: datetime | None = None
    """When that wait ends (UTC)."""
    metadata_from: str | None = None
    """Where the files and checksums came from when not from the Hub ("the mirror
    s3://team/hf (the Hub: unreachable)"); None: the Hub."""


@dataclass(slots=True)
class FileProgress:
    """One file's share of a download."""

    path: str
    total_bytes: int
    done_bytes: int = 0
    verified: bool = False


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """How a download ended (the seed's fields)."""

    success: bool
    model_id: str
    final_status: DownloadStatus
    total_time_seconds: float
    total_retries: int
    """Failed network requests made again: each lost connection counts once."""
    final_size_mb: float
    """Decimal MB (10**6 bytes)."""
    error_message: str | None = None
    integrity_verified: bool = False
    error_code: str | None = None
    error_hint: str | None = None
    bytes_fetched: int = 0
    offline: bool = False
    """Finished from what was on disk without asking the source (HF_HUB_OFFLINE): the
    files were checked, not whether upstream has a newer version."""

    @property
    def speed_bytes_per_s(self) -> float | None:
        """Average rate of the bytes this pull fetched; None when it fetched nothing (bytes
        already on disk are no transfer, so no speed)."""
        if self.bytes_fetched <= 0 or self.total_time_seconds <= 0:
            return None
        return self.bytes_fetched / self.total_time_seconds


class SpeedMeter:
    """Bytes per second over the last few seconds, so the figure neither jumps nor lags."""

    def __init__(self, window_s: float = SPEED_WINDOW_S) -> None:
        self._window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()
        self._total = 0

    def add(self, n: int, now: float | None = None) -> None:
        """Count ``n`` more bytes."""
        now = time.monotonic() if now is None else now
        self._total += n
        self._samples.append((now, self._total))
        while self._samples and now - self._samples[0][0] > self._window_s:
            self._samples.popleft()

    def rate(self, now: float | None = None) -> float:
        """Current bytes per second."""
        now = time.monotonic() if now is None else now
        while self._samples and now - self._samples[0][0] > self._window_s:
            self._samples.popleft()
        if not self._samples:
            return 0.0
        first_t, first_total = self._samples[0]
        span = max(now - first_t, 0.5)
        return (self._total - first_total) / span if len(self._samples) > 1 else 0.0


class ProgressTracker:
    """Folds download events into one DownloadProgress per model."""

    def __init__(self) -> None:
        self._progress: dict[str, DownloadProgress] = {}
        self._meters: dict[str, SpeedMeter] = {}
        self._waits: dict[str, RateLimitWaits] = {}
        self._handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
            EventType.DOWNLOAD_QUEUED: self._on_download_queued,
            EventType.DOWNLOAD_STARTED: self._on_download_started,
            EventType.DOWNLOAD_RETRY: self._on_download_retry,
            EventType.DOWNLOAD_STATE: self._on_download_state,
            EventType.FILE_BYTES: self._on_file_bytes,
            EventType.FILE_VERIFIED: self._on_file_verified,
            EventType.DOWNLOAD_WAITING: self._on_download_waiting,
        }

    def get(self, model_id: str) -> DownloadProgress | None:
        """The latest progress of a model, with speed and ETA as of now."""
        progress = self._progress.get(model_id)
        if progress is None:
            return None
        rate = self._meters[model_id].rate()
        if progress.status is not DownloadStatus.DOWNLOADING:
            rate = 0.0
        progress.speed_bytes_per_s = round(rate)  # whole bytes/s, as the API carries it
        progress.speed_mbps = rate / MB
        remaining = progress.total_bytes - progress.downloaded_bytes
        progress.eta_seconds = remaining / rate if rate > 0 else None
        if progress.status is DownloadStatus.COMPLETED:
            progress.eta_seconds = 0.0
        self._show_wait(progress)
        return progress

    def _show_wait(self, progress: DownloadProgress) -> None:
        """The model's rate-limit wait, counted down to now."""
        waits = self._waits.get(progress.model_id)
        resume_at = waits.resume_at() if waits else None
        progress.resume_at = resume_time(resume_at)
        progress.waiting = None if resume_at is None else waiting_note(resume_at - time.time())
        if progress.waiting is None and waits is not None:
            progress.waiting = waits.team_note()
        if progress.waiting is not None:
            progress.eta_seconds = None

    def __call__(self, event: Event) -> None:
        """Bus subscriber entry point."""
        if event.model_id is None:
            return
        handler = self._handlers.get(event.type)
        if handler is not None:
            handler(event.model_id, event.data)

    def _on_download_started(self, model_id: str, data: dict[str, Any]) -> None:
        # Each file starts from what is already on disk, so a resumed job's figures do not
        # drop to zero until its first segment lands.
        files = {
            str(f["path"]): FileProgress(
                path=str(f["path"]),
                total_bytes=int(f["size_bytes"]),
                done_bytes=int(f.get("done_bytes", 0)),
            )
            for f in data.get("files", [])
        }
        total = sum(f.total_bytes for f in files.values())
        done = sum(f.done_bytes for f in files.values())
        self._progress[model_id] = DownloadProgress(
            model_id=model_id,
            status=DownloadStatus.DOWNLOADING,
            progress_percent=100.0 * done / total if total else 0.0,
            downloaded_mb=done / MB,
            total_mb=total / MB,
            speed_mbps=0.0,
            total_bytes=total,
            downloaded_bytes=done,
            max_retries=int(data.get("max_retries", 3)),
            files=files,
            metadata_from=not_the_hub(data.get("metadata_from")),
        )
        self._meters[model_id] = SpeedMeter()
        self._waits[model_id] = RateLimitWaits()

    def _on_download_queued(self, model_id: str, data: dict[str, Any]) -> None:
        if model_id not in self._progress:
            self._progress[model_id] = DownloadProgress(
                model_id=model_id,
                status=DownloadStatus.QUEUED,
                progress_percent=0.0,
                downloaded_mb=0.0,
                total_mb=0.0,
                speed_mbps=0.0,
            )
            self._meters[model_id] = SpeedMeter()
        else:
            self._progress[model_id].status = DownloadStatus.QUEUED
        self._waits[model_id] = RateLimitWaits()

    def _on_file_bytes(self, model_id: str, data: dict[str, Any]) -> None:
        progress = self._progress.get(model_id)
        if progress is None:
            return
        file = progress.files.get(str(data["path"]))
        done = int(data["done_bytes"])
        delta = int(data.get("new_bytes", 0))
        if file is not None:
            file.done_bytes = done
        progress.downloaded_bytes = sum(f.done_bytes for f in progress.files.values())
        progress.downloaded_mb = progress.downloaded_bytes / MB
        if progress.total_bytes:
            progress.progress_percent = 100.0 * progress.downloaded_bytes / progress.total_bytes
        if delta:
            self._meters[model_id].add(delta)
            self._waits[model_id].flowing(str(data["path"]))

    def _on_file_verified(self, model_id: str, data: dict[str, Any]) -> None:
        progress = self._progress.get(model_id)
        if progress is not None and (file := progress.files.get(str(data["path"]))) is not None:
            file.verified = True
            file.done_bytes = file.total_bytes
            self._on_file_bytes(model_id, {"path": file.path, "done_bytes": file.total_bytes})

    def _on_download_retry(self, model_id: str, data: dict[str, Any]) -> None:
        if data.get("rate_limited"):
            # The hub's pacing: shown as a wait, never counted as a retry or an error.
            path = data.get("path")
            resume_at = data.get("resume_at") or time.time() + float(data.get("wait_s") or 0)
            self._waits.setdefault(model_id, RateLimitWaits()).wait(
                None if path is None else str(path), float(resume_at)
            )
            return
        if (progress := self._progress.get(model_id)) is not None:
            progress.retry_count += int(data.get("retries") or 1)
            progress.error_message = str(data.get("message", ""))

    def _on_download_waiting(self, model_id: str, data: dict[str, Any]) -> None:
        note = data.get("note")
        waits = self._waits.setdefault(model_id, RateLimitWaits())
        waits.note(str(data["path"]), None if note is None else str(note))

    def _on_download_state(self, model_id: str, data: dict[str, Any]) -> None:
        progress = self._progress.get(model_id)
        if progress is None:
            return
        progress.status = DownloadStatus(str(data["status"]))
        if progress.status is not DownloadStatus.DOWNLOADING:
            self._waits.setdefault(model_id, RateLimitWaits()).clear()
        if data.get("message") is not None:
            progress.error_message = str(data["message"])
        if data.get("code") is not None:
            progress.error_code = str(data["code"])
        running = progress.status in (DownloadStatus.DOWNLOADING, DownloadStatus.QUEUED)
        progress.can_pause = running
        progress.can_resume = progress.status in (DownloadStatus.PAUSED, DownloadStatus.FAILED)
        progress.can_cancel = progress.status not in (
            DownloadStatus.COMPLETED,
            DownloadStatus.CANCELLED,
        )


@dataclass(frozen=True, slots=True)
class JobFacts:
    """What the queue says of a model's job at one moment."""

    status: DownloadStatus
    running: bool


_JOB_KEEPS = (DownloadStatus.PAUSED, DownloadStatus.FAILED)
_ENDED_INCOMPLETE = (*_JOB_KEEPS, DownloadStatus.CANCELLED)


def derive_progress(
    model_id: str,
    *,
    job: JobFacts | None,
    tracked: DownloadProgress | None,
    local: LocalModel | None,
    with_files: bool = True,
) -> DownloadProgress:
    """A model's download now: the state from its running job, else from the store (an
    ended job's pause, failure or cancel only while the store is incomplete); the bytes
    from the tracker while the job runs and has started, else from the store (verified
    files, and the ranges partial files' records name). ``with_files=False`` leaves out the
    per-file figures (the status shows only the totals)."""
    status = _derived_status(job, local)
    running = job is not None and job.running
    live = running and tracked is not None and tracked.total_bytes > 0
    if live and tracked is not None:
        done, total = tracked.downloaded_bytes, tracked.total_bytes
        files = _copied(tracked.files) if with_files else {}
    else:
        done, total = (local.present_bytes, local.size_bytes) if local else (0, 0)
        files = _files_on_disk(local) if with_files else {}
    rate = tracked.speed_bytes_per_s if live and tracked is not None else 0.0
    failed = status is DownloadStatus.FAILED and tracked is not None
    return DownloadProgress(
        model_id=model_id,
        status=status,
        progress_percent=100.0 * done / total if total else 0.0,
        downloaded_mb=done / MB,
        total_mb=total / MB,
        speed_mbps=rate / MB,
        # While the hub makes it wait, a rate measured across the wait says nothing of
        # when the bytes will be in: no time left rather than a wrong one.
        eta_seconds=None
        if running and tracked and tracked.waiting
        else _eta(status, total - done, rate),
        retry_count=tracked.retry_count if tracked and (live or failed) else 0,
        max_retries=tracked.max_retries if tracked else 3,
        error_message=tracked.error_message if failed and tracked else None,
        error_code=tracked.error_code if failed and tracked else None,
        can_pause=running,
        can_resume=not running and status in _JOB_KEEPS,
        can_cancel=running or status in _JOB_KEEPS,
        downloaded_bytes=done,
        total_bytes=total,
        speed_bytes_per_s=rate,
        files=files,
        waiting=tracked.waiting if running and tracked else None,
        resume_at=tracked.resume_at if running and tracked else None,
        metadata_from=tracked.metadata_from if tracked else None,
    )


def _derived_status(job: JobFacts | None, local: LocalModel | None) -> DownloadStatus:
    """Only a running job decides; otherwise the store does. How an ended job stopped
    (paused, failed, cancelled) counts only while the store is incomplete: a model that
    another process (or an adopt) completed is completed, one whose files were removed
    since its job completed is not."""
    if job is not None and job.running:
        return job.status
    if local is not None and local.complete:
        return DownloadStatus.COMPLETED
    if job is not None and job.status in _ENDED_INCOMPLETE:
        return job.status
    if local is not None and local.has_partial_data:
        # Bytes wait to be resumed (a crash, a Ctrl-C, another process's job): paused.
        return DownloadStatus.PAUSED
    return DownloadStatus.NOT_STARTED


def _copied(files: dict[str, FileProgress]) -> dict[str, FileProgress]:
    """The tracker's files as of now (it keeps changing its own)."""
    return {
        p: FileProgress(f.path, f.total_bytes, f.done_bytes, f.verified) for p, f in files.items()
    }


def _files_on_disk(local: LocalModel | None) -> dict[str, FileProgress]:
    if local is None:
        return {}
    return {
        f.file.path: FileProgress(
            f.file.path, f.file.size_bytes, f.present_bytes, f.state is FileState.VERIFIED
        )
        for f in local.files
    }


def _eta(status: DownloadStatus, remaining: int, rate: float) -> float | None:
    if status is DownloadStatus.COMPLETED:
        return 0.0
    return remaining / rate if rate > 0 else None
