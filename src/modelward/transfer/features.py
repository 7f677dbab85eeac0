"""The transfer engine's feature switches: retries and segmented transfer.

Off, the engine behaves as the plain base downloader: one attempt per file and per
metadata request (``feature_retries``), one connection per file reading it from where it
stands to its end (``feature_segmented_transfer``). Applied at start and again whenever
the settings change; a change reaches the next file a download fetches.
"""

from __future__ import annotations

from modelward.settings import Settings
from modelward.transfer.base import retry_policy_for
from modelward.transfer.downloader import EnhancedModelDownloader
from modelward.transfer.fetch import HASH_READ_BYTES

WHOLE_FILE_BYTES = 1 << 62
"""A segment size no file reaches: each missing range of a file is one request."""


def apply_transfer_features(downloader: EnhancedModelDownloader, settings: Settings) -> None:
    """Give ``downloader`` the retry policy and segmentation ``settings`` ask for."""
    # Set here rather than through the constructor so a running service changes them too.
    segmented = settings.feature_segmented_transfer
    downloader.configure(
        policy=retry_policy_for(settings, enabled=settings.feature_retries),
        connections_per_file=settings.connections_per_file if segmented else 1,
        segment_bytes=settings.segment_bytes if segmented else WHOLE_FILE_BYTES,
    )


def unhashed_tail_bytes(settings: Settings) -> int:
    """Bytes of a file still to hash once its last byte arrives, at most."""
    if settings.feature_segmented_transfer:
        # The segments in flight may all lie beyond the hashed prefix.
        return settings.connections_per_file * settings.segment_bytes
    # One connection writes the prefix in order; the hasher trails it by one read.
    return HASH_READ_BYTES
