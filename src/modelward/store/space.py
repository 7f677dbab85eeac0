"""The store's file system: how full it is (the one figure every view shows), and the
free space checked before a download starts."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from modelward.errors import InsufficientSpaceError
from modelward.units import format_size


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """One reading of a file system, as ``df`` shows it."""

    total_bytes: int
    used_bytes: int
    free_bytes: int
    """Free for an unprivileged writer: the blocks reserved for root are neither used nor
    free to us, which is why ``used + free`` can be less than ``total``."""

    @property
    def used_percent(self) -> float:
        """Used share of what we could ever use, one decimal, as ``df``'s Use% computes it."""
        usable = self.used_bytes + self.free_bytes
        return round(100.0 * self.used_bytes / usable, 1) if usable else 0.0


def disk_usage(path: Path) -> DiskUsage:
    """How full the file system that holds ``path`` (or would hold it) is now."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the store may not exist yet: its file system does
    usage = shutil.disk_usage(probe)
    return DiskUsage(usage.total, usage.used, usage.free)


def free_bytes(path: Path) -> int:
    """Free bytes on the file system that holds ``path`` (or would hold it)."""
    return disk_usage(path).free_bytes


def ensure_space(path: Path, needed_bytes: int, what: str) -> None:
    """Refuse to start writing ``needed_bytes`` under ``path`` when they cannot fit."""
    free = free_bytes(path)
    if needed_bytes > free:
        raise InsufficientSpaceError(
            f"{what} needs {format_size(needed_bytes)} more but only "
            f"{format_size(free)} are free on the disk holding {path}",
            needed_bytes=needed_bytes,
            free_bytes=free,
        )
