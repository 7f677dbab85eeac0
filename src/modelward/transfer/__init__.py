"""Transfer: moving bytes from sources into the store, with retries and progress."""

from modelward.transfer.base import ModelDownloader
from modelward.transfer.downloader import EnhancedModelDownloader
from modelward.transfer.progress import (
    DownloadProgress,
    DownloadResult,
    DownloadStatus,
    FileProgress,
    ProgressTracker,
)
from modelward.transfer.queue import CancelResult, Priority, QueueEntry
from modelward.transfer.retry import RetryPolicy

__all__ = [
    "CancelResult",
    "DownloadProgress",
    "DownloadResult",
    "DownloadStatus",
    "EnhancedModelDownloader",
    "FileProgress",
    "ModelDownloader",
    "Priority",
    "ProgressTracker",
    "QueueEntry",
    "RetryPolicy",
]
