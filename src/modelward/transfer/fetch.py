"""One file from a source to a verified blob: segments, resume, hash-as-you-go, promote.

This is the seed's base ModelDownloader: it moves one file and knows no policy. Retrying,
scheduling and priorities live in :mod:`modelward.transfer.downloader`.

A file is split into segments fetched over several connections at once and written at
their offsets into ``blobs/{blob}.modelward.incomplete``. When a segment completes, the file
is fsynced and the ranges on disk are recorded, so a crash (even ``kill -9`` or a power cut)
loses at most the segments in flight. The sha256 (or git blob id) is computed as the
contiguous prefix grows, reading back from the page cache, so verification overlaps the
transfer; the same pass records a sha256 per 16 MiB block for later repair. Nothing is
promoted before the whole-file checksum matches.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from modelward.errors import (
    IncompleteTransferError,
    InsufficientSpaceError,
    IntegrityError,
    ProtocolViolationError,
    first_error,
)
from modelward.sources import RemoteFile, Source, Target
from modelward.store.hashing import ContentHasher
from modelward.store.layout import RepoLayout
from modelward.store.records import (
    PartialRecord,
    load_partial,
    save_block_table,
    save_partial,
)
from modelward.store.space import free_bytes
from modelward.store.writer import promote_blob, remove_partial
from modelward.transfer.ranges import RangeSet, Segment, plan_segments
from modelward.transfer.threads import run_to_completion

logger = logging.getLogger(__name__)
T = TypeVar("T")

BLOCK_BYTES = 16 * 1024 * 1024
WRITE_BATCH_BYTES = 1024 * 1024
HASH_READ_BYTES = 8 * 1024 * 1024
MAX_IOVECS = 512  # well under every system's IOV_MAX
# Also checkpoint inside long segments, so a crash loses at most this much per connection
# and not whole segments; an fdatasync per 8 MiB costs little next to writing them.
CHECKPOINT_BYTES = 8 * 1024 * 1024

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes of this file on disk, bytes newly received)."""


@dataclass(frozen=True, slots=True)
class FetchContext:
    """What fetching a file needs from the scheduler around it."""

    source: Source
    layout: RepoLayout
    on_progress: ProgressCallback
    slot: Callable[[], AbstractAsyncContextManager[None]]
    """A global connection slot, held for one segment."""
    throttle: Callable[[int], Awaitable[None]]
    """Waits until this many more bytes may be received (bandwidth caps)."""
    segment_bytes: int = 32 * 1024 * 1024
    connections: int = 4


@dataclass(slots=True)
class AttemptMemory:
    """What earlier attempts in this process wrote of one blob; the caller keeps it.

    Bytes written but not yet fsynced are not in the durable record, yet within one
    process they are sound; remembering them means a dropped connection costs nothing.
    """

    present: RangeSet | None = None
    file_id: tuple[int, int] | None = None
    """(device, inode) of the partial file those ranges are in; another file means none."""


async def fetch_blob(
    target: Target, file: RemoteFile, ctx: FetchContext, memory: AttemptMemory | None = None
) -> None:
    """Fetch ``file`` into its verified blob (resuming from ``memory`` or the durable record)."""
    memory = memory or AttemptMemory()
    present, memory.file_id = await run_to_completion(
        _prepare_partial, ctx.layout, target, file, memory
    )
    memory.present = present
    if present.total:
        logger.info("resuming %s with %d of %d bytes", file.path, present.total, file.size_bytes)
    ctx.on_progress(present.total, 0)
    partial = _PartialFile(ctx.layout, target, file, present)
    hasher: _PrefixHasher | None = None
    try:
        await run_to_completion(partial.open)
        hasher = _PrefixHasher(file, partial)
        await _fetch_segments(target, file, ctx, partial, hasher)
        await hasher.finish()
    finally:
        if hasher is not None:
            await hasher.stop()
        await run_to_completion(partial.close)
    if not hasher.matches():
        memory.present = None
        await run_to_completion(remove_partial, ctx.layout, file.blob_name)
        ctx.on_progress(0, 0)  # the bytes are gone: a retry after this has made no progress
        raise IntegrityError(
            f"{target.repo_id}/{file.path}: received data does not match the published "
            f"checksum {file.blob_name[:12]}… ({hasher.bytes_hashed} of {file.size_bytes} bytes)"
        )
    await run_to_completion(_promote, ctx.layout, file, hasher.block_hashes)


async def _fetch_segments(
    target: Target,
    file: RemoteFile,
    ctx: FetchContext,
    partial: _PartialFile,
    hasher: _PrefixHasher,
) -> None:
    queue = deque(plan_segments(file.size_bytes, partial.present, ctx.segment_bytes))
    if file.size_bytes == 0:
        return

    async def worker() -> None:
        while queue:
            segment = queue.popleft()
            async with ctx.slot():
                await _fetch_segment(target, file, ctx, partial, hasher, segment)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(ctx.connections, len(queue))):
                group.create_task(worker())
    except BaseExceptionGroup as failures:
        raise first_error(failures) from failures


async def _fetch_segment(
    target: Target,
    file: RemoteFile,
    ctx: FetchContext,
    partial: _PartialFile,
    hasher: _PrefixHasher,
    segment: Segment,
) -> None:
    whole_file = segment.start == 0 and segment.end == file.size_bytes
    end = None if whole_file else segment.end
    async with ctx.source.open_file(target, file, start=segment.start, end=end) as stream:
        if stream.start != segment.start:
            raise ProtocolViolationError(
                f"{target.repo_id}/{file.path}: the server ignores byte ranges",
                hint="Use an endpoint that supports Range requests (every Hub mirror does).",
            )
        writer = _SegmentWriter(partial, segment, ctx, hasher)
        try:
            async for chunk in stream.chunks():
                await ctx.throttle(len(chunk))
                await writer.add(chunk)
        finally:
            # Whatever arrived before a failure is in the right place: keep it.
            await writer.flush()
    if writer.offset < segment.end:
        raise IncompleteTransferError(
            f"{target.repo_id}/{file.path}: the body ended at byte {writer.offset}, "
            f"expected {segment.end}"
        )
    await run_to_completion(partial.checkpoint)


class _SegmentWriter:
    """Batches a segment's bytes and writes them at their offset in a worker thread."""

    def __init__(
        self, partial: _PartialFile, segment: Segment, ctx: FetchContext, hasher: _PrefixHasher
    ) -> None:
        self._partial = partial
        self._segment = segment
        self._ctx = ctx
        self._hasher = hasher
        self._chunks: list[bytes] = []
        self._buffered = 0
        self.offset = segment.start
        """The next byte of the file this segment will write."""

    async def add(self, chunk: bytes) -> None:
        """Take the next received bytes."""
        if self.offset + self._buffered + len(chunk) > self._segment.end:
            raise ProtocolViolationError(
                f"{self._partial.file.path}: the server sent more bytes than asked for"
            )
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered >= WRITE_BATCH_BYTES:
            await self.flush()

    async def flush(self) -> None:
        """Write what is buffered."""
        if not self._chunks:
            return
        # Handed over as received: pwritev writes the list without joining it first.
        chunks, size = self._chunks, self._buffered
        self._chunks, self._buffered = [], 0
        start = self.offset
        try:
            await run_to_completion(self._partial.write_at, start, chunks, size)
        finally:
            # Even when paused mid-write: write_at counted the bytes if they were written.
            written_to = min(self._partial.present_end_from(start), self._segment.end)
            self.offset = max(self.offset, written_to)
        self._ctx.on_progress(self._partial.present.total, size)
        self._hasher.wake()
        if self._partial.checkpoint_due():
            await run_to_completion(self._partial.checkpoint)


class _PartialFile:
    """The ``.incomplete`` file of one blob, the ranges written to it and its record."""

    def __init__(
        self, layout: RepoLayout, target: Target, file: RemoteFile, present: RangeSet
    ) -> None:
        self.layout = layout
        self.target = target
        self.file = file
        self.present = present
        self._lock = threading.Lock()
        self._checkpoint_lock = threading.Lock()
        self._checkpointed = present.total
        self._fd = -1

    def open(self) -> None:
        """Open for writing at offsets and reading back (blocking)."""
        self._fd = os.open(self.layout.incomplete_path(self.file.blob_name), os.O_RDWR)

    def write_at(self, offset: int, chunks: list[bytes], size: int) -> None:
        """Write ``chunks`` (``size`` bytes) at ``offset`` and count them (blocking)."""
        if len(chunks) > MAX_IOVECS:
            chunks = [b"".join(chunks)]
        try:
            written = os.pwritev(self._fd, chunks, offset)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise InsufficientSpaceError(
                    f"the disk filled up while writing {self.file.path}",
                    needed_bytes=self.file.size_bytes - self.present.total,
                    free_bytes=free_bytes(self.layout.blobs_dir),
                ) from exc
            raise
        if written != size:  # a write to a regular file only falls short when the disk is full
            raise InsufficientSpaceError(
                f"the disk filled up while writing {self.file.path}",
                needed_bytes=self.file.size_bytes - self.present.total,
                free_bytes=free_bytes(self.layout.blobs_dir),
            )
        # Writers run in several threads; the lock keeps their range updates whole.
        with self._lock:
            self.present.add(offset, offset + size)

    def present_end_from(self, offset: int) -> int:
        """End of the present range that contains ``offset`` (``offset`` if none does)."""
        with self._lock:
            return next((e for s, e in self.present if s <= offset < e), offset)

    def read_at(self, offset: int, length: int) -> bytes:
        """Read back written bytes (blocking; served from the page cache)."""
        return os.pread(self._fd, length, offset)

    def checkpoint_due(self) -> bool:
        """True when enough was written since the last checkpoint to record it."""
        return self.present.total - self._checkpointed >= CHECKPOINT_BYTES

    def checkpoint(self) -> None:
        """Make everything written so far durable, then record it (blocking)."""
        if self._fd < 0:
            return
        with self._checkpoint_lock:  # one at a time; the record must never go backwards
            self._checkpoint_locked()

    def _checkpoint_locked(self) -> None:
        with self._lock:
            done = tuple(self.present)
            total = self.present.total
        if total <= self._checkpointed and total:
            return
        os.fdatasync(self._fd)
        self._checkpointed = total
        save_partial(
            self.layout,
            PartialRecord(
                self.file.blob_name,
                self.file.size_bytes,
                self.target.commit,
                self.file.path,
                done=done,
            ),
        )

    def close(self) -> None:
        """Record what is durable and close (blocking; idempotent)."""
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):  # the file may already be gone after a cancel
            self.checkpoint()
        os.close(self._fd)
        self._fd = -1


class _PrefixHasher:
    """Hashes the file's contiguous prefix as it grows, and each 16 MiB block with it."""

    def __init__(self, file: RemoteFile, partial: _PartialFile) -> None:
        self._file = file
        self._partial = partial
        self._content = ContentHasher(file)
        self._block = hashlib.sha256()
        self._block_fill = 0
        self.block_hashes: list[str] = []
        self._wakeup = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"hash {file.path}")

    @property
    def bytes_hashed(self) -> int:
        """Bytes of the prefix hashed so far."""
        return self._content.bytes_hashed

    def wake(self) -> None:
        """New bytes were written; the prefix may have grown."""
        self._wakeup.set()

    def matches(self) -> bool:
        """True when the whole file was hashed and matches the published checksum."""
        return self._content.matches()

    async def finish(self) -> None:
        """Wait until every byte of the file is hashed."""
        self.wake()
        await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Stop hashing (after a failure or a pause)."""
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        size = self._file.size_bytes
        while self.bytes_hashed < size:
            limit = self._partial.present.prefix_end
            if limit <= self.bytes_hashed:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            length = min(HASH_READ_BYTES, limit - self.bytes_hashed)
            await run_to_completion(self._hash_next, self.bytes_hashed, length)
        if self._block_fill:
            self.block_hashes.append(self._block.hexdigest())

    def _hash_next(self, offset: int, length: int) -> None:
        data = self._partial.read_at(offset, length)
        self._content.update(data)
        view = memoryview(data)
        while view:
            take = min(len(view), BLOCK_BYTES - self._block_fill)
            self._block.update(view[:take])
            self._block_fill += take
            view = view[take:]
            if self._block_fill == BLOCK_BYTES:
                self.block_hashes.append(self._block.hexdigest())
                self._block = hashlib.sha256()
                self._block_fill = 0


def _prepare_partial(
    layout: RepoLayout, target: Target, file: RemoteFile, memory: AttemptMemory
) -> tuple[RangeSet, tuple[int, int]]:
    """Make the partial file exist at full size; return the ranges it holds and its
    identity (blocking)."""
    layout.blobs_dir.mkdir(parents=True, exist_ok=True)
    path = layout.incomplete_path(file.blob_name)
    intact = path.is_file() and path.stat().st_size == file.size_bytes
    present = memory.present
    if present is not None and not (intact and _file_id(path) == memory.file_id):
        present = None  # the file went away or was replaced (a cancel, another writer)
    elif present is not None:
        # Remembered ranges may not be on disk yet; they must be before the record says so.
        with path.open("r+b") as fh:
            os.fdatasync(fh.fileno())
    if present is None:
        record = load_partial(layout, file.blob_name)
        usable = record is not None and record.size_bytes == file.size_bytes and intact
        # Only ranges fsynced before the record was written are trusted; without a
        # record nothing in the file is known to be right.
        present = RangeSet(record.done if usable and record else ())
    if not present.total:
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
    return present, _file_id(path)


def _file_id(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def _promote(layout: RepoLayout, file: RemoteFile, block_hashes: list[str]) -> None:
    save_block_table(layout, file.blob_name, BLOCK_BYTES, block_hashes)
    promote_blob(layout, file)
    layout.partial_record_path(file.blob_name).unlink(missing_ok=True)
