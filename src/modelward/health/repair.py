"""Repair: set a damaged blob's bad bytes aside and fetch only what is wrong with it.

With a block table and a blob of the right size, the damaged blocks are copied to
quarantine, the blocks whose digest still matches are recorded as done and the blob is
renamed to its ``.incomplete`` file, so the ordinary resumable download fetches only the
damaged blocks with Range requests, hashes the whole file and promotes it only if its
sha256 matches. Without a table (or when the size is wrong) the whole blob goes to
quarantine and the file is fetched whole. All of it happens under the blob's lock, so a
download writing the same blob (in this process or another) is never pulled from under.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

import filelock

from modelward.errors import StoreLockedError
from modelward.health.quarantine import Quarantine
from modelward.sources import RemoteFile, Target
from modelward.store.hashing import BlockHasher, differing_blocks
from modelward.store.layout import RepoLayout
from modelward.store.locks import blob_file_lock
from modelward.store.records import (
    BlockTable,
    DamagedRecord,
    PartialRecord,
    VerifiedRecord,
    load_block_table,
    save_partial,
)
from modelward.store.writer import fsync_dir, remove_partial
from modelward.transfer.ranges import RangeSet

READ_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RepairPlan:
    """What will be fetched again for one damaged file."""

    path: str
    damaged_ranges: tuple[tuple[int, int], ...]
    """Byte ranges to fetch; the whole file when no block table could narrow it down."""
    quarantine_id: str | None
    """Where the damaged copy went (None when there was no copy to keep)."""

    @property
    def refetch_bytes(self) -> int:
        """Bytes the repair asks the source for."""
        return sum(end - start for start, end in self.damaged_ranges)


def damaged_ranges(
    layout: RepoLayout, file: RemoteFile, table: BlockTable
) -> list[tuple[int, int]]:
    """The blocks of the blob whose digest differs from its table (blocking; reads it once)."""
    hasher = BlockHasher(table.algorithm)
    with layout.blob_path(file.blob_name).open("rb") as fh:
        while chunk := fh.read(READ_BYTES):
            hasher.update(chunk)
    return differing_blocks(table.hashes, hasher.hexdigests(), table.block_bytes, file.size_bytes)


def repairable_ranges(layout: RepoLayout, file: RemoteFile) -> tuple[tuple[int, int], ...]:
    """What a repair of ``file``'s blob would fetch: its damaged blocks when its block table
    and size allow, else the whole file (blocking). Blocks a full check already compared
    (and the blob unchanged since) are not read again."""
    blob = layout.blob_path(file.blob_name)
    table = load_block_table(layout, file.blob_name)
    if table is None or not blob.is_file() or blob.stat().st_size != file.size_bytes:
        return ((0, file.size_bytes),)
    known = DamagedRecord(layout).ranges(file.blob_name)
    if known is None:
        known = tuple(damaged_ranges(layout, file, table))
    return known or ((0, file.size_bytes),)


def prepare_repair(
    layout: RepoLayout, target: Target, file: RemoteFile, quarantine: Quarantine, reason: str
) -> RepairPlan:
    """Quarantine ``file``'s damaged bytes and leave a partial file that a download resumes
    from, holding every block still known good (blocking)."""
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
    DamagedRecord(layout).forget(file.blob_name)  # its bad bytes go to quarantine
    remove_partial(layout, file.blob_name)
    if not blob.is_file():
        return RepairPlan(file.path, ((0, file.size_bytes),), None)
    bad = repairable_ranges(layout, file)
    if bad == ((0, file.size_bytes),):
        entry = quarantine.put(
            blob, repo_id=target.repo_id, path=file.path, blob_name=file.blob_name, reason=reason
        )
        return RepairPlan(file.path, bad, entry.entry_id)
    # Only the damaged blocks go to quarantine: the rest of the blob is good and becomes the
    # partial file the download resumes, by a rename. A copy of the whole blob would cost
    # its size in time and free disk (30 GB for a big shard) to keep bytes that are fine.
    entry = quarantine.put_ranges(
        blob,
        bad,
        repo_id=target.repo_id,
        path=file.path,
        blob_name=file.blob_name,
        reason=reason,
    )
    # The record first, durably: a crash before the rename leaves the damaged blob (found
    # and repaired again next time) and a record that names no partial file, which a
    # download ignores; a crash after it leaves a partial file whose good blocks count.
    good = tuple((g.start, g.end) for g in RangeSet(bad).gaps(file.size_bytes))
    save_partial(
        layout, PartialRecord(file.blob_name, file.size_bytes, target.commit, file.path, good)
    )
    partial = layout.incomplete_path(file.blob_name)
    os.replace(blob, partial)
    fsync_dir(partial.parent)
    # The download writes into it; a blob may have been left read-only by another tool.
    partial.chmod(partial.stat().st_mode | stat.S_IWUSR)
    return RepairPlan(file.path, bad, entry.entry_id)
