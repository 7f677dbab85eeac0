"""Free space on the store's file system, checked before a download starts."""

from __future__ import annotations

import shutil
from pathlib import Path

from modelward.errors import InsufficientSpaceError


def free_bytes(path: Path) -> int:
    """Free bytes on the file system that holds ``path`` (or would hold it)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


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
