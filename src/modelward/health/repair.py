"""Repair: keep the damaged copy's evidence, fetch only what is wrong, swap in one rename.

The damaged blob is never moved or written while a repair runs: its snapshot link keeps
resolving to it. Its bad bytes are copied to quarantine (the damaged blocks; or the whole
file as a hard link, a copy across file systems), the bytes of it still worth keeping are
copied into its ``.incomplete`` file (blocks whose digest matches its block table, or the
prefix of a truncated file), and the ordinary resumable download fetches the rest with
Range requests, hashes the whole file and replaces the blob in one rename only if its
sha256 matches (see ``health.aside``). A repair interrupted at any point leaves the
damaged blob served and, once the kept bytes were recorded, a partial file the next
repair (or the restored download queue) goes on from. All of it happens under the
blob's lock, so a download writing the same blob (in this process or another) is never
pulled from under.
"""

from __future__ import annotations

from dataclasses import dataclass

import filelock

from modelward.errors import StoreLockedError
from modelward.health.aside import (
    PrefixTried,
    build_partial,
    ensure_room,
    keepable_ranges,
    resumable_partial,
)
from modelward.health.quarantine import Quarantine, QuarantineEntry
from modelward.sources import RemoteFile, Target
from modelward.store.layout import RepoLayout
from modelward.store.locks import blob_file_lock
from modelward.store.records import VerifiedRecord
from modelward.store.writer import remove_partial
from modelward.transfer.ranges import RangeSet

Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class RepairPlan:
    """What will be fetched again for one damaged file."""

    path: str
    damaged_ranges: Ranges
    """Byte ranges to fetch; the whole file when nothing of the damaged copy is kept."""
    quarantine_id: str | None
    """Where the damaged copy went (None when there was no copy to keep)."""

    @property
    def refetch_bytes(self) -> int:
        """Bytes the repair asks the source for."""
        return sum(end - start for start, end in self.damaged_ranges)


def repairable_ranges(layout: RepoLayout, file: RemoteFile) -> Ranges:
    """What a repair of ``file``'s blob would fetch: all but the bytes worth keeping (its
    good blocks, or a truncated file's prefix), else the whole file (blocking). Blocks a
    full check already compared (and the blob unchanged since) are not read again."""
    good, _unverified = keepable_ranges(layout, file)
    return missing_ranges(RangeSet(good), file)


def missing_ranges(kept: RangeSet, file: RemoteFile) -> Ranges:
    """The byte ranges of ``file`` not in ``kept`` (the whole file when none are)."""
    gaps = tuple((g.start, g.end) for g in kept.gaps(file.size_bytes))
    return gaps or ((0, file.size_bytes),)


def prepare_repair(
    layout: RepoLayout, target: Target, file: RemoteFile, quarantine: Quarantine, reason: str
) -> RepairPlan:
    """Quarantine ``file``'s damaged bytes and leave a partial file that a download resumes
    from, holding every byte of the damaged copy worth keeping (blocking)."""
    lock = blob_file_lock(layout, file.blob_name)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise StoreLockedError(
            f"{target.repo_id}/{file.path} is being written by a download",
            hint="Wait for that download to finish (it verifies the file), then check again.",
        ) from None
    try:
        return _prepare(layout, target, file, quarantine, reason)
    finally:
        lock.release()


def _prepare(
    layout: RepoLayout, target: Target, file: RemoteFile, quarantine: Quarantine, reason: str
) -> RepairPlan:
    blob = layout.blob_path(file.blob_name)
    VerifiedRecord(layout).forget(file.blob_name)
    if not blob.is_file():
        remove_partial(layout, file.blob_name)
        return RepairPlan(file.path, ((0, file.size_bytes),), None)
    kept = resumable_partial(layout, file)
    if kept is not None:
        # An interrupted repair (its evidence taken, its fetched bytes on disk), or a
        # download that was rewriting the damaged blob beside it: go on from there.
        entry = _pending_entry(quarantine, file) or _evidence(
            layout, target, file, quarantine, reason, ((0, file.size_bytes),)
        )
        return RepairPlan(file.path, missing_ranges(kept, file), entry.entry_id)
    good, unverified = keepable_ranges(layout, file)
    bad = missing_ranges(RangeSet(good), file)
    ensure_room(layout, file)
    # Evidence first, then the partial file: neither touches the served blob.
    entry = _evidence(layout, target, file, quarantine, reason, bad)
    build_partial(layout, target, file, good)
    if unverified:
        PrefixTried(layout).mark(file.blob_name)
    return RepairPlan(file.path, bad, entry.entry_id)


def _evidence(
    layout: RepoLayout,
    target: Target,
    file: RemoteFile,
    quarantine: Quarantine,
    reason: str,
    bad: Ranges,
) -> QuarantineEntry:
    """Set the damaged copy's evidence aside: its damaged blocks when it has the right size
    and only some are bad (a copy of 30 GB to keep bytes that are fine would cost its size
    in time and disk), else all of it, linked."""
    blob = layout.blob_path(file.blob_name)
    names = {"repo_id": target.repo_id, "path": file.path, "blob_name": file.blob_name}
    whole = bad == ((0, file.size_bytes),) or blob.stat().st_size != file.size_bytes
    if whole:
        return quarantine.keep(blob, reason=reason, **names)
    return quarantine.put_ranges(blob, bad, reason=reason, **names)


def _pending_entry(quarantine: Quarantine, file: RemoteFile) -> QuarantineEntry | None:
    """The newest quarantine entry of this blob whose repair has not finished, if any."""
    pending = [
        e
        for e in quarantine.entries()
        if e.blob_name == file.blob_name and not quarantine.replacement_verified(e)
    ]
    return pending[-1] if pending else None
