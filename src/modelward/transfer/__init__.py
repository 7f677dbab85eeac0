"""Transfer: moving bytes from sources into the store, with retries and progress."""

from modelward.transfer.downloader import EnhancedModelDownloader, Priority
from modelward.transfer.progress import (
    DownloadProgress,
    DownloadResult,
    DownloadStatus,
    FileProgress,
    ProgressTracker,
)
from modelward.transfer.retry import RetryPolicy

__all__ = [
    "DownloadProgress",
    "DownloadResult",
    "DownloadStatus",
    "EnhancedModelDownloader",
    "FileProgress",
    "Priority",
    "ProgressTracker",
    "RetryPolicy",
]
