"""One file from a source to a verified blob: segments, resume, hash-as-you-go, promote.

This is the seed's base ModelDownloader: it moves one file and knows no policy. Retrying,
scheduling and priorities live in :mod:`modelward.transfer.downloader`.

A file is split into segments fetched over several connections at once and written at
their offsets into ``blobs/{blob}.modelward.incomplete``. Each connection runs in a thread
of its own that receives into a large buffer and writes it with ``pwrite``, so the bytes
never pass through the event loop; the loop only schedules, and hears of progress. Every
8 MiB and at each segment's end the ranges on disk are recorded without an fsync (trusted
until the machine restarts), so a killed process loses at most 8 MiB per connection; once
a second the file is fsynced and the record marked durable, so a power cut loses at most
the last second. The sha256 (or git blob id) is computed as the contiguous prefix grows
(:mod:`modelward.transfer.prefix`): from the receive buffer for bytes that arrive at the
prefix's end, from the page cache for those that arrived ahead of it; so verification
overlaps the transfer. The same pass records a digest of each 16 MiB block for later
repair. Nothing is promoted before the whole-file checksum matches.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from modelward.errors import (
    IncompleteTransferError,
    InsufficientSpaceError,
    IntegrityError,
    ModelwardError,
    ProtocolViolationError,
    StoreError,
    failure_causes,
)
from modelward.sources import RemoteFile, Source, Target
from modelward.sources.body import BodyReader
from modelward.store.layout import RepoLayout
from modelward.store.space import free_bytes
from modelward.store.writer import remove_partial
from modelward.transfer.partial import PartialFile, prepare_partial, promote
from modelward.transfer.prefix import HASH_READ_BYTES as HASH_READ_BYTES  # features.py's
from modelward.transfer.prefix import PrefixHasher
from modelward.transfer.ranges import RangeSet, Segment, plan_segments
from modelward.transfer.threads import run_to_completion, start_thread
from modelward.transfer.throttle import ModelThrottle

logger = logging.getLogger(__name__)

# Large buffers: a write per 2 MiB, and plain-socket reads as large as the kernel has data
# for (a TLS socket hands over one record, ~16 KiB, per read).
RECEIVE_BUFFER_BYTES = 2 * 1024 * 1024
# Under a cap, draws from the bucket stay small so the rate stays smooth.
CAPPED_READ_BYTES = 256 * 1024
# On slow links, write (and report) what arrived at least this often.
FLUSH_INTERVAL_S = 0.25
# Fast links report written bytes at most this often per connection: each report wakes
# the event loop (some 40 µs there), and a report per 2 MiB write was a third of its work.
PROGRESS_INTERVAL_S = 0.1
# Once a second the file is fsynced and recorded as durable, so a power cut loses at most
# the last second of each file.
DURABLE_INTERVAL_S = 1.0

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
    throttle: ModelThrottle | None
    """The bandwidth caps received bytes draw from (None: never capped)."""
    screen: Callable[[Path, Target, RemoteFile], None] | None = None
    """Looks at a verified partial file before promotion; raises to refuse it (it must
    then have moved the file away)."""
    segment_bytes: int = 32 * 1024 * 1024
    connections: int = 8


@dataclass(slots=True)
class AttemptMemory:
    """What earlier attempts in this process wrote of one blob; the caller keeps it.

    Bytes written but not yet fsynced are not in the durable record, yet within one
    process they are sound; remembering them means a dropped connection costs nothing.
    """

    present: RangeSet | None = None
    file_id: tuple[int, int] | None = None
    """(device, inode) of the partial file those ranges are in; another file means none."""
    failed_requests: int = 0
    """Connections the latest attempt lost at once (0: it failed some other way)."""
    bytes_read_back: int = 0
    """Bytes the attempts hashed by reading them back from the partial file: those that
    arrived ahead of the hashed prefix, and a resumed attempt's existing prefix. The rest
    were hashed from the receive buffers."""

    def take_failed_requests(self) -> int:
        """Network requests the failed attempt lost (at least one), counted once."""
        lost, self.failed_requests = max(1, self.failed_requests), 0
        return lost


async def fetch_blob(
    target: Target, file: RemoteFile, ctx: FetchContext, memory: AttemptMemory | None = None
) -> None:
    """Fetch ``file`` into its verified blob (resuming from ``memory`` or the durable record)."""
    memory = memory or AttemptMemory()
    present, memory.file_id = await run_to_completion(
        prepare_partial, ctx.layout, target, file, memory.present, memory.file_id
    )
    memory.present = present
    if present.total:
        logger.info("resuming %s with %d of %d bytes", file.path, present.total, file.size_bytes)
    ctx.on_progress(present.total, 0)
    partial = PartialFile(ctx.layout, target, file, present)
    hasher: PrefixHasher | None = None
    durability: asyncio.Task[None] | None = None
    try:
        await run_to_completion(partial.open)
        hasher = PrefixHasher(file, partial)
        durability = asyncio.create_task(_keep_durable(partial), name=f"fsync {file.path}")
        await _fetch_segments(target, file, ctx, partial, hasher, memory)
        await hasher.finish()
    finally:
        if durability is not None:
            durability.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await durability
        if hasher is not None:
            await hasher.stop()
            memory.bytes_read_back += hasher.bytes_read_back
        await run_to_completion(partial.close)
    if not hasher.matches():
        await _discard(ctx, file, memory)
        ctx.on_progress(0, 0)  # the bytes are gone: a retry after this has made no progress
        raise IntegrityError(
            f"{target.repo_id}/{file.path}: received data does not match the published "
            f"checksum {file.blob_name[:12]}… ({hasher.bytes_hashed} of {file.size_bytes} bytes)"
        )
    if ctx.screen is not None:
        try:
            await run_to_completion(
                ctx.screen, ctx.layout.incomplete_path(file.blob_name), target, file
            )
        except ModelwardError:
            await _discard(ctx, file, memory)
            raise
    await run_to_completion(promote, ctx.layout, file, hasher.block_table)


async def _discard(ctx: FetchContext, file: RemoteFile, memory: AttemptMemory) -> None:
    """Forget a partial file that must not be promoted, on disk and in memory."""
    memory.present = None
    await run_to_completion(remove_partial, ctx.layout, file.blob_name)


async def _keep_durable(partial: PartialFile) -> None:
    """fsync and record what was written, once per ``DURABLE_INTERVAL_S``, off the
    connections: an fsync per segment end held every connection up while the disk caught
    up."""
    while True:
        await asyncio.sleep(DURABLE_INTERVAL_S)
        try:
            await run_to_completion(partial.checkpoint_durable)
        except (OSError, InsufficientSpaceError) as exc:
            # The writes will meet the same disk error and report it; this only stops
            # making records the failing disk cannot keep.
            logger.warning("cannot fsync %s: %s", partial.file.path, exc)
            return


async def _fetch_segments(
    target: Target,
    file: RemoteFile,
    ctx: FetchContext,
    partial: PartialFile,
    hasher: PrefixHasher,
    memory: AttemptMemory,
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
        # Each connection that failed on its own is a request the retry makes again.
        causes = failure_causes(failures)
        memory.failed_requests = len(causes)
        raise causes[0] from failures


async def _fetch_segment(
    target: Target,
    file: RemoteFile,
    ctx: FetchContext,
    partial: PartialFile,
    hasher: PrefixHasher,
    segment: Segment,
) -> None:
    loop = asyncio.get_running_loop()

    def written(size: int) -> None:
        ctx.on_progress(partial.present.total, size)
        hasher.wake()

    def notify(size: int) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed under an abandoned thread
            loop.call_soon_threadsafe(written, size)

    stop = _SegmentStop()
    receiver = _SegmentReceiver(
        target, file, ctx, partial, segment, stop, notify, hasher.hash_received
    )
    future = start_thread(receiver.run, name=f"segment {file.path}@{segment.start}")
    try:
        await asyncio.shield(future)
    except asyncio.CancelledError:
        # Whatever the thread ends with is moot now; mark it seen so asyncio does not log it.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        if stop.request():
            # It writes: the blob's lock must not be released before it has stopped.
            while not future.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait([future])
        # Otherwise it still waits for the server and writes nothing once it sees the stop.
        raise


class _BufferPool:
    """Receive buffers handed from one segment to the next.

    Fresh multi-MiB buffers per segment would cost page faults on every byte and, once
    glibc serves them from per-thread arenas, memory that is never given back.
    """

    def __init__(self, size: int, keep: int) -> None:
        self._size = size
        self._keep = keep
        self._spare: list[bytearray] = []
        self._lock = threading.Lock()

    def take(self) -> memoryview:
        """A buffer of ``size`` bytes (contents undefined)."""
        with self._lock:
            if self._spare:
                return memoryview(self._spare.pop())
        return memoryview(bytearray(self._size))

    def give_back(self, buffer: object) -> None:
        """Return a buffer from :meth:`take` for reuse."""
        if isinstance(buffer, bytearray) and len(buffer) == self._size:
            with self._lock:
                if len(self._spare) < self._keep:
                    self._spare.append(buffer)


_RECEIVE_BUFFERS = _BufferPool(RECEIVE_BUFFER_BYTES, keep=32)


class _SegmentStop:
    """Lets the event loop stop a segment's thread: at once while it waits for the server's
    answer, and after its current write once it has started writing."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self._body: BodyReader | None = None
        self._entered = False

    def enter_body(self, body: BodyReader) -> bool:
        """Called by the thread before its first write; False when it must not write."""
        with self._lock:
            if self.event.is_set():
                return False
            self._body, self._entered = body, True
            return True

    def leave_body(self) -> None:
        """Called by the thread when the response is closed: its socket may serve another
        request now and must not be shut down."""
        with self._lock:
            self._body = None

    def request(self) -> bool:
        """Ask the thread to stop; True when it may be writing (so it must be waited for)."""
        with self._lock:
            self.event.set()
            if self._body is not None:
                # Under the lock: once the thread has left the body, its connection may
                # serve another segment, whose socket this must not cut.
                self._body.abort()  # a read blocked on a silent server returns now
            return self._entered


class _SegmentReceiver:
    """Receives one segment in its own thread and writes it at its offset."""

    def __init__(
        self,
        target: Target,
        file: RemoteFile,
        ctx: FetchContext,
        partial: PartialFile,
        segment: Segment,
        stop: _SegmentStop,
        notify: Callable[[int], None],
        on_received: Callable[[int, memoryview], None],
    ) -> None:
        self._target = target
        self._file = file
        self._ctx = ctx
        self._partial = partial
        self._segment = segment
        self._stop = stop
        self._notify = notify
        self._buffer = memoryview(bytearray(0))
        self._fill = 0
        self.offset = segment.start
        """The next byte of the file this segment will write."""
        self._unreported = 0
        self._report_by = 0.0
        # Hears of each piece (offset, bytes) before it is written: the prefix hasher.
        self._on_received = on_received

    def run(self) -> None:
        """Fetch the segment (blocking); returns early, keeping what arrived, when stopped."""
        try:
            self._run()
        except OSError as exc:  # network failures arrive as modelward errors: this is disk
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # also a short write
                raise InsufficientSpaceError(
                    f"the disk filled up while writing {self._file.path}",
                    needed_bytes=self._file.size_bytes - self._partial.present.total,
                    free_bytes=free_bytes(self._partial.layout.blobs_dir),
                ) from exc
            raise StoreError(
                f"cannot write {self._file.path} into the store: {exc.strerror or exc}",
                hint="Check the disk and the permissions of the cache directory.",
            ) from exc

    def _run(self) -> None:
        segment, file = self._segment, self._file
        whole_file = segment.start == 0 and segment.end == file.size_bytes
        end = None if whole_file else segment.end
        with self._ctx.source.open_file(self._target, file, start=segment.start, end=end) as stream:
            if stream.start != segment.start:
                raise ProtocolViolationError(
                    f"{self._target.repo_id}/{file.path}: the server ignores byte ranges",
                    hint="Use an endpoint that supports Range requests (every Hub mirror does).",
                )
            if not self._stop.enter_body(stream.body):
                return
            try:
                self._receive(stream.body)
            finally:
                self._stop.leave_body()
        if self._stop.event.is_set():
            return
        if self.offset < segment.end:
            raise IncompleteTransferError(
                f"{self._target.repo_id}/{file.path}: the body ended at byte {self.offset}, "
                f"expected {segment.end}"
            )
        self._partial.checkpoint(durable=False)

    def _receive(self, body: BodyReader) -> None:
        self._buffer = _RECEIVE_BUFFERS.take()[: self._segment.size]
        try:
            self._receive_into_buffer(body)
        finally:
            try:
                self._flush()
            finally:
                self._report()  # what is written, even when the last write failed
                _RECEIVE_BUFFERS.give_back(self._buffer.obj)
                self._buffer = memoryview(bytearray(0))

    def _receive_into_buffer(self, body: BodyReader) -> None:
        # Run once per read (a TLS socket yields ~16 KiB a read): locals, no properties.
        stopped, throttle, end = self._stop.event, self._ctx.throttle, self._segment.end
        buffer, readinto, monotonic = self._buffer, body.readinto, time.monotonic
        flush_by = monotonic() + FLUSH_INTERVAL_S
        while not stopped.is_set():
            fill, limit = self._fill, min(len(buffer), end - self.offset)
            if fill == limit:
                break  # the segment is complete
            if throttle is not None and throttle.is_limited():
                limit = min(limit, fill + CAPPED_READ_BYTES)
            try:
                n = readinto(buffer[fill:limit])
            except ModelwardError:
                if stopped.is_set():
                    return  # the stop dropped the connection
                raise
            if n == 0:
                return
            self._fill = fill = fill + n
            if throttle is not None and not throttle.acquire(n, stopped):
                return
            if fill == len(buffer) or monotonic() >= flush_by:
                self._flush()
                flush_by = monotonic() + FLUSH_INTERVAL_S
        if not stopped.is_set() and self._sent_more(body):
            raise ProtocolViolationError(
                f"{self._file.path}: the server sent more bytes than asked for"
            )

    @staticmethod
    def _sent_more(body: BodyReader) -> bool:
        if body.remaining is not None:
            return body.remaining > 0
        return body.readinto(memoryview(bytearray(1))) > 0

    def _flush(self) -> None:
        # Whatever arrived before a failure or a stop is in the right place: keep it.
        if not self._fill:
            return
        data, self._fill = self._buffer[: self._fill], 0
        # Hashed before it is written, so the read-back task, which reads only what is
        # written, never gets to these bytes first.
        self._on_received(self.offset, data)
        self._partial.write_at(self.offset, data)
        self.offset += len(data)
        self._unreported += len(data)
        if time.monotonic() >= self._report_by:
            self._report()
        if self._partial.checkpoint_due():
            self._partial.checkpoint(durable=False)

    def _report(self) -> None:
        if self._unreported:
            self._notify(self._unreported)
            self._unreported = 0
        self._report_by = time.monotonic() + PROGRESS_INTERVAL_S
