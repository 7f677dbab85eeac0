"""How a download job ended: the error it stopped or failed with, and the seed's
:class:`DownloadResult`; retries as events while it runs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from modelward.errors import (
    ModelwardError,
    RateLimitedError,
    StoreError,
    TransferCancelledError,
)
from modelward.events import EventType
from modelward.sources import offline_error
from modelward.store.manager import FileState, LocalModel
from modelward.transfer.progress import DownloadResult, DownloadStatus
from modelward.transfer.queue import Job
from modelward.transfer.retry import RetryListener
from modelward.transfer.waits import rate_limit_wait
from modelward.units import MB, format_size

logger = logging.getLogger(__name__)

Emit = Callable[..., None]
"""``emit(event_type, model_id, **data)``."""


def stopped_error(job: Job, reason: DownloadStatus) -> ModelwardError | None:
    """The error a person's stop ends the job with (a cancel; a pause is no error)."""
    if reason is not DownloadStatus.CANCELLED:
        return None
    return TransferCancelledError(
        f"download of {job.model_id} cancelled",
        hint=f"Start it again with 'modelward pull {job.model_id}'.",
    )


def failure(job: Job, exc: Exception, cache_dir: Path) -> ModelwardError:
    """What a failed job reports: our own error as it is, a disk error as the store's, and
    anything else (a bug) still as an error with a next step, never a lost task."""
    if isinstance(exc, ModelwardError):
        logger.warning("download of %s failed: %s", job.model_id, exc)
        return exc
    if isinstance(exc, OSError):
        logger.warning("download of %s failed on disk: %s", job.model_id, exc)
        return StoreError(
            f"cannot write the store at {cache_dir}: {exc.strerror or exc}",
            hint="Choose a writable --cache-dir (or HF_HUB_CACHE) and MODELWARD_HOME.",
        )
    logger.error("download of %s failed unexpectedly", job.model_id, exc_info=exc)
    return ModelwardError(
        f"unexpected {type(exc).__name__}: {exc}",
        hint="Partial data is kept. Run again with -v; if it repeats, report it.",
    )


def result_of(
    job: Job, status: DownloadStatus, error: ModelwardError | None, *, offline: bool
) -> DownloadResult:
    """The seed's DownloadResult for a job that ended in ``status``."""
    size = job.target.size_bytes if job.target else 0
    return DownloadResult(
        success=status is DownloadStatus.COMPLETED,
        model_id=job.model_id,
        final_status=status,
        total_time_seconds=time.monotonic() - job.started_at,
        total_retries=job.retries,
        final_size_mb=size / MB,
        error_message=error.message if error else None,
        integrity_verified=status is DownloadStatus.COMPLETED,
        error_code=error.code if error else None,
        error_hint=error.hint if error else None,
        bytes_fetched=job.bytes_fetched,
        offline=offline,
    )


def retry_listener(
    job: Job, emit: Emit, path: str | None = None, lost: Callable[[], int] | None = None
) -> RetryListener:
    """Counts the job's retries and publishes each attempt retried as ``download.retry``
    (a rate-limit wait too, marked ``rate_limited``, counted as no retry).

    A retry counts each failed network request it makes again: ``lost()`` says how many
    the failed attempt lost (a file's connections can fail together; default one).
    """

    def on_retry(error: ModelwardError, failures: int, delay_s: float) -> None:
        retries = lost() if lost else 1
        if isinstance(error, RateLimitedError):
            emit(EventType.DOWNLOAD_RETRY, job.model_id, **rate_limit_wait(error, path, delay_s))
            return  # the hub's pacing: no retry, and no request counted as lost
        job.retries += retries
        emit(
            EventType.DOWNLOAD_RETRY,
            job.model_id,
            path=path,
            code=error.code,
            message=error.message,
            failures=failures,
            retries=retries,
            delay_s=round(delay_s, 2),
        )

    return on_retry


def offline_shortfall(model_id: str, local: LocalModel) -> ModelwardError | None:
    """Why an offline pull cannot finish ``local``: how many files and bytes are not on
    disk or not verified (None: every file is in place)."""
    lacking = [f for f in local.files if f.state not in (FileState.VERIFIED, FileState.UNLINKED)]
    if not lacking:
        return None
    size = sum(lf.file.size_bytes - lf.present_bytes for lf in lacking)
    damaged = sum(1 for lf in lacking if lf.state is FileState.DAMAGED)
    also = f", {damaged} of them damaged" if damaged else ""
    return offline_error(
        f"{model_id} is incomplete ({len(lacking)} of {len(local.files)} files not on disk "
        f"or not verified{also}; {format_size(size)} to fetch), and nothing may be fetched"
    )
