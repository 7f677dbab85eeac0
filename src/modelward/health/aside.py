"""A repaired blob is built beside the damaged one, never in its place.

The damaged blob stays where its snapshot link points until the repaired file, fetched
and verified as ``blobs/{blob}.modelward.incomplete``, replaces it in one rename (the
downloader's promotion). Whatever moment a crash picks, every snapshot link resolves to a
file: the damaged one before that rename, the verified one after.

The partial file starts with what of the damaged blob is worth keeping: the blocks whose
digest still matches the blob's block table, or, for a truncated file without a table,
its prefix. A prefix nothing vouches for is checked by the whole-file checksum once the
rest arrives; if that fails, the prefix is remembered as tried (against the blob's stat)
so the next repair fetches the file whole.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from modelward.sources import RemoteFile, Target
from modelward.store.hashing import BLOCK_BYTES, BlockHasher
from modelward.store.layout import RepoLayout
from modelward.store.records import (
    BlobStat,
    BlockTable,
    DamagedRecord,
    PartialRecord,
    load_block_table,
    load_partial,
    read_json,
    save_partial,
    write_json_atomic,
)
from modelward.store.space import ensure_space
from modelward.store.writer import fsync_dir, remove_partial
from modelward.transfer.ranges import RangeSet

COPY_BYTES = 8 * 1024 * 1024
Ranges = tuple[tuple[int, int], ...]


def keepable_ranges(layout: RepoLayout, file: RemoteFile) -> tuple[Ranges, bool]:
    """The byte ranges of ``file``'s damaged blob worth keeping for its repair, and whether
    they are unverified (a prefix without a block table); blocking, reads the blob at most
    once."""
    blob = layout.blob_path(file.blob_name)
    try:
        stat = BlobStat.of(blob)
    except OSError:
        return (), False
    table = load_block_table(layout, file.blob_name)
    if table is not None and table.block_bytes == BLOCK_BYTES:
        return _good_blocks(layout, file, table, stat.size_bytes), False
    if 0 < stat.size_bytes < file.size_bytes and not PrefixTried(layout).tried(file.blob_name):
        return ((0, stat.size_bytes),), True
    return (), False


def _good_blocks(layout: RepoLayout, file: RemoteFile, table: BlockTable, on_disk: int) -> Ranges:
    size = file.size_bytes
    if on_disk == size:
        known = DamagedRecord(layout).ranges(file.blob_name)
        if known is not None:  # a full check compared the blocks: no second read
            # No block differs, yet the checksum does: nothing of it can be trusted.
            return tuple((g.start, g.end) for g in RangeSet(known).gaps(size)) if known else ()
    length = min(on_disk, size)
    hasher = BlockHasher(table.algorithm)
    with layout.blob_path(file.blob_name).open("rb") as fh:
        remaining = length
        while remaining and (chunk := fh.read(min(COPY_BYTES, remaining))):
            hasher.update(chunk)
            remaining -= len(chunk)
    good = RangeSet()
    for index, digest in enumerate(hasher.hexdigests()):
        start = index * BLOCK_BYTES
        end = min(start + BLOCK_BYTES, size)
        # A block cut short by the truncation cannot be compared: it is fetched again.
        if end <= length and index < len(table.hashes) and table.hashes[index] == digest:
            good.add(start, end)
    # Every block matching a blob whose checksum does not: the table cannot say what is
    # wrong, so nothing of it is kept.
    return tuple(good) if good.total < size else ()


def resumable_partial(layout: RepoLayout, file: RemoteFile) -> RangeSet | None:
    """What an interrupted repair (or download) of ``file`` left in its partial file, when
    it can be resumed: its ranges known written; else None (blocking)."""
    record = load_partial(layout, file.blob_name)
    if record is None or record.size_bytes != file.size_bytes:
        return None
    try:
        if layout.incomplete_path(file.blob_name).stat().st_size != file.size_bytes:
            return None
    except OSError:
        return None
    present = RangeSet(record.trusted_ranges())
    return present if present.total else None


def ensure_room(layout: RepoLayout, file: RemoteFile) -> None:
    """Refuse (``InsufficientSpaceError``) before anything is changed when the disk cannot
    hold a second copy of ``file``: the repaired one is built beside the damaged one."""
    ensure_space(layout.blobs_dir, file.size_bytes, f"repairing {file.path}")


def build_partial(layout: RepoLayout, target: Target, file: RemoteFile, good: Ranges) -> None:
    """Make ``file``'s partial file afresh, holding the ``good`` ranges of its damaged blob
    (copied, the blob untouched), and record them once they are on disk (blocking)."""
    remove_partial(layout, file.blob_name)
    if not good:
        return  # the download starts the file from nothing
    partial = layout.incomplete_path(file.blob_name)
    fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, file.size_bytes)  # sparse: only what is copied takes room
        _copy_ranges(layout.blob_path(file.blob_name), fd, good)
        os.fdatasync(fd)
    finally:
        os.close(fd)
    # The record last: a crash before it leaves a partial file nothing vouches for, which
    # the download starts over, never bytes counted that were not copied.
    record = PartialRecord(file.blob_name, file.size_bytes, target.commit, file.path, good)
    save_partial(layout, record)
    fsync_dir(partial.parent)


def _copy_ranges(source: Path, fd: int, ranges: Ranges) -> None:
    with source.open("rb") as src:
        for start, end in ranges:
            offset = start
            while offset < end:
                n = _copy_chunk(src.fileno(), fd, offset, min(COPY_BYTES, end - offset))
                if n == 0:  # the blob shrank meanwhile: nothing to keep from here on
                    raise OSError(errno.EIO, f"{source} ended at {offset} while copied")
                offset += n


def _copy_chunk(src: int, dst: int, offset: int, length: int) -> int:
    try:
        # In the kernel, and shared extents where the file system can (btrfs, XFS).
        return os.copy_file_range(src, dst, length, offset, offset)
    except OSError:
        data = os.pread(src, length, offset)
        return os.pwrite(dst, data, offset)


class PrefixTried:
    """Blobs whose unverified prefix a repair already started from, with their stat then:
    if the blob is unchanged at the next repair, that prefix failed, so the file is
    fetched whole."""

    def __init__(self, layout: RepoLayout) -> None:
        self._path = layout.records_dir / "prefix-tried.json"
        self._layout = layout

    def tried(self, blob_name: str) -> bool:
        """True when a repair started from this blob's prefix and the blob is unchanged."""
        data = read_json(self._path)
        entry = data.get(blob_name) if isinstance(data, dict) else None
        try:
            return isinstance(entry, dict) and BlobStat(**entry) == BlobStat.of(
                self._layout.blob_path(blob_name)
            )
        except (OSError, TypeError):
            return False

    def mark(self, blob_name: str) -> None:
        """Remember that a repair starts from this blob's prefix (its stat now)."""
        data = read_json(self._path)
        # Entries of blobs changed since (repaired, removed) say nothing any more.
        data = {n: e for n, e in data.items() if self.tried(n)} if isinstance(data, dict) else {}
        stat = BlobStat.of(self._layout.blob_path(blob_name))
        data[blob_name] = {
            "size_bytes": stat.size_bytes,
            "mtime_ns": stat.mtime_ns,
            "inode": stat.inode,
        }
        write_json_atomic(self._path, data)
