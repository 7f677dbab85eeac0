"""Free space on the store's file system, checked before a download starts."""

from __future__ import annotations

import shutil
from pathlib import Path

from modelward.errors import InsufficientSpaceError


def disk_usage(path: Path) -> tuple[int, int]:
    """Total and free bytes of the file system that holds ``path`` (or would hold it)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the store may not exist yet: its file system does
    usage = shutil.disk_usage(probe)
    return usage.total, usage.free


def free_bytes(path: Path) -> int:
    """Free bytes on the file system that holds ``path`` (or would hold it)."""
    return disk_usage(path)[1]


def ensure_space(path: Path, needed_bytes: int, what: str) -> None:
    """Refuse to start writing ``needed_bytes`` under ``path`` when they cannot fit."""
    free = free_bytes(path)
    if needed_bytes > free:
        raise InsufficientSpaceError(
            f"{what} needs {needed_bytes / 2**30:,.2f} GiB more but only "
            f"{free / 2**30:,.2f} GiB are free on the disk holding {path}",
            needed_bytes=needed_bytes,
            free_bytes=free,
        )
