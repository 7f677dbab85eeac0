"""The ``.incomplete`` file of one blob: made ready to resume, written at offsets, recorded.

What is written is recorded every ``CHECKPOINT_BYTES`` without an fsync (trusted until the
machine restarts) and, when asked, fsynced and recorded as durable; a file whose whole
checksum matched is promoted into the store with its block table.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from pathlib import Path

from modelward.errors import InsufficientSpaceError
from modelward.sources import RemoteFile, Target
from modelward.store.layout import RepoLayout
from modelward.store.records import (
    BlockTable,
    PartialRecord,
    load_partial,
    remove_partial_records,
    save_block_table,
    save_partial,
    save_written,
)
from modelward.store.writer import promote_blob
from modelward.transfer.ranges import RangeSet

# Progress is recorded every 8 MiB of a file without an fsync (which at GB/s would cost
# more than the writes), so a killed process loses at most that much per connection; the
# record is trusted only while the machine has not restarted.
CHECKPOINT_BYTES = 8 * 1024 * 1024


class PartialFile:
    """The ``.incomplete`` file of one blob, the ranges written to it and its record."""

    def __init__(
        self, layout: RepoLayout, target: Target, file: RemoteFile, present: RangeSet
    ) -> None:
        self.layout = layout
        self.target = target
        self.file = file
        self.present = present
        self._lock = threading.Lock()
        self._durable_lock = threading.Lock()
        self._written_lock = threading.Lock()
        self._recorded = present.total
        self._durable_total = present.total
        self._fd = -1

    def open(self) -> None:
        """Open for writing at offsets and reading back (blocking)."""
        self._fd = os.open(self.layout.incomplete_path(self.file.blob_name), os.O_RDWR)

    def write_at(self, offset: int, data: memoryview) -> None:
        """Write ``data`` at ``offset`` and count it (blocking; OSError when it fails)."""
        size = len(data)
        written = os.pwrite(self._fd, data, offset)
        if written != size:  # a write to a regular file only falls short when the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        # Writers run in several threads; the lock keeps their range updates whole.
        with self._lock:
            self.present.add(offset, offset + size)

    def read_into(self, offset: int, view: memoryview) -> memoryview:
        """Read back written bytes into ``view`` (blocking; served from the page cache)."""
        n = os.preadv(self._fd, [view], offset)
        return view[:n]

    def checkpoint_due(self) -> bool:
        """True when enough was written since the last record to record it again."""
        return self.present.total - self._recorded >= CHECKPOINT_BYTES

    def checkpoint_durable(self) -> None:
        """fsync what is written and record it (blocking)."""
        self.checkpoint(durable=True)

    def checkpoint(self, *, durable: bool) -> None:
        """Record what is written (blocking). ``durable`` fsyncs the data first, so the
        record holds even after a power cut; otherwise it holds until the machine restarts.
        """
        if self._fd < 0:
            return
        if durable:
            with self._durable_lock:  # one at a time; the record must never go backwards
                self._record_durable()
        # A light record already being written covers nearly as much: skip rather than
        # queue a connection behind it.
        elif self._written_lock.acquire(blocking=False):
            try:
                self._record_written()
            finally:
                self._written_lock.release()

    def _snapshot(self) -> tuple[tuple[tuple[int, int], ...], int]:
        with self._lock:
            return tuple(self.present), self.present.total

    def _record_durable(self) -> None:
        written, total = self._snapshot()
        if total <= self._durable_total:
            return
        os.fdatasync(self._fd)
        record = PartialRecord(
            self.file.blob_name,
            self.file.size_bytes,
            self.target.commit,
            self.file.path,
            done=written,
        )
        save_partial(self.layout, record)
        self._durable_total = total

    def _record_written(self) -> None:
        written, total = self._snapshot()
        if total <= self._recorded:
            return
        save_written(self.layout, self.file.blob_name, written)
        self._recorded = total

    def close(self) -> None:
        """Record what is durable and close (blocking; idempotent)."""
        if self._fd < 0:
            return
        # The file may be gone after a cancel, or MODELWARD_HOME full (the writes said so).
        with contextlib.suppress(OSError, InsufficientSpaceError):
            self.checkpoint(durable=True)
        os.close(self._fd)
        self._fd = -1


def prepare_partial(
    layout: RepoLayout,
    target: Target,
    file: RemoteFile,
    remembered: RangeSet | None,
    remembered_id: tuple[int, int] | None,
) -> tuple[RangeSet, tuple[int, int]]:
    """Make the partial file exist at full size; return the ranges it holds and its
    identity (blocking). ``remembered`` ranges count only while the file is still the one
    ``remembered_id`` names."""
    layout.blobs_dir.mkdir(parents=True, exist_ok=True)
    path = layout.incomplete_path(file.blob_name)
    intact = path.is_file() and path.stat().st_size == file.size_bytes
    present = remembered
    if present is not None and not (intact and file_id(path) == remembered_id):
        present = None  # the file went away or was replaced (a cancel, another writer)
    if present is None:
        record = load_partial(layout, file.blob_name)
        usable = record is not None and record.size_bytes == file.size_bytes and intact
        # Without a record nothing in the file is known to be right.
        present = RangeSet(record.trusted_ranges() if usable and record else ())
    if present.total:
        # Remembered or page-cache ranges may not be on disk yet; they must be before the
        # record below calls them durable.
        with path.open("r+b") as fh:
            os.fdatasync(fh.fileno())
    else:
        path.unlink(missing_ok=True)
    # Sparse: blocks are allocated as segments land, not up front.
    with path.open("ab") as fh:
        fh.truncate(file.size_bytes)
    save_partial(
        layout,
        PartialRecord(
            file.blob_name, file.size_bytes, target.commit, file.path, done=tuple(present)
        ),
    )
    return present, file_id(path)


def file_id(path: Path) -> tuple[int, int]:
    """(device, inode) of ``path``: which file it is, whatever its name."""
    st = path.stat()
    return st.st_dev, st.st_ino


def promote(layout: RepoLayout, file: RemoteFile, blocks: BlockTable) -> None:
    """Move a verified partial file into the store with its block table (blocking)."""
    save_block_table(layout, file.blob_name, blocks)
    promote_blob(layout, file)
    remove_partial_records(layout, file.blob_name)
