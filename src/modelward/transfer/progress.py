"""Download progress as the seed defines it, and the tracker that derives it from events."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from modelward.events import Event, EventType

MB = 1024 * 1024
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
    total_mb: float
    speed_mbps: float
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
    final_size_mb: float
    error_message: str | None = None
    integrity_verified: bool = False
    error_code: str | None = None
    error_hint: str | None = None
    bytes_fetched: int = 0


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
        self._handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
            EventType.DOWNLOAD_QUEUED: self._on_download_queued,
            EventType.DOWNLOAD_STARTED: self._on_download_started,
            EventType.DOWNLOAD_RETRY: self._on_download_retry,
            EventType.DOWNLOAD_STATE: self._on_download_state,
            EventType.FILE_BYTES: self._on_file_bytes,
            EventType.FILE_VERIFIED: self._on_file_verified,
        }

    def get(self, model_id: str) -> DownloadProgress | None:
        """The latest progress of a model, with speed and ETA as of now."""
        progress = self._progress.get(model_id)
        if progress is None:
            return None
        rate = self._meters[model_id].rate()
        if progress.status is not DownloadStatus.DOWNLOADING:
            rate = 0.0
        progress.speed_bytes_per_s = rate
        progress.speed_mbps = rate / MB
        remaining = progress.total_bytes - progress.downloaded_bytes
        progress.eta_seconds = remaining / rate if rate > 0 else None
        if progress.status is DownloadStatus.COMPLETED:
            progress.eta_seconds = 0.0
        return progress

    def __call__(self, event: Event) -> None:
        """Bus subscriber entry point."""
        if event.model_id is None:
            return
        handler = self._handlers.get(event.type)
        if handler is not None:
            handler(event.model_id, event.data)

    def _on_download_started(self, model_id: str, data: dict[str, Any]) -> None:
        files = {
            str(f["path"]): FileProgress(path=str(f["path"]), total_bytes=int(f["size_bytes"]))
            for f in data.get("files", [])
        }
        total = sum(f.total_bytes for f in files.values())
        self._progress[model_id] = DownloadProgress(
            model_id=model_id,
            status=DownloadStatus.DOWNLOADING,
            progress_percent=0.0,
            downloaded_mb=0.0,
            total_mb=total / MB,
            speed_mbps=0.0,
            total_bytes=total,
            max_retries=int(data.get("max_retries", 3)),
            files=files,
        )
        self._meters[model_id] = SpeedMeter()

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

    def _on_file_verified(self, model_id: str, data: dict[str, Any]) -> None:
        progress = self._progress.get(model_id)
        if progress is not None and (file := progress.files.get(str(data["path"]))) is not None:
            file.verified = True
            file.done_bytes = file.total_bytes
            self._on_file_bytes(model_id, {"path": file.path, "done_bytes": file.total_bytes})

    def _on_download_retry(self, model_id: str, data: dict[str, Any]) -> None:
        if (progress := self._progress.get(model_id)) is not None:
            progress.retry_count += 1
            progress.error_message = str(data.get("message", ""))

    def _on_download_state(self, model_id: str, data: dict[str, Any]) -> None:
        progress = self._progress.get(model_id)
        if progress is None:
            return
        progress.status = DownloadStatus(str(data["status"]))
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
