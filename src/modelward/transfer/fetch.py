"""One file from a source to a verified blob: resume, stream-hash, verify, promote.

This is the seed's base ModelDownloader: it moves one file and knows no policy. Retrying,
scheduling and parallelism live in :mod:`modelward.transfer.downloader`.

Bytes are appended to ``blobs/{blob}.incomplete``. Appends are only ever a valid prefix of
the file, so after a crash of the process (even ``kill -9``) the next attempt re-hashes that
prefix and asks the source for the rest with ``Range``. A partial file is named by the
content it must become, so a remote file that changed is a different blob and starts its
own partial file; a server that answers 200 instead of 206 restarts that file alone.

Every few dozen MiB the prefix is fsynced and its length recorded in the blob's resume
record. A file shorter than that record lost data the kernel had not written (power loss),
so it is started again rather than trusted. Whatever is trusted, the whole-file checksum
still decides before anything is promoted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from modelward.errors import IncompleteTransferError, InsufficientSpaceError, IntegrityError
from modelward.sources import RemoteFile, Source, Target
from modelward.store.hashing import ContentHasher, hash_prefix
from modelward.store.layout import RepoLayout
from modelward.store.records import PartialRecord, load_partial, save_partial
from modelward.store.space import free_bytes
from modelward.store.writer import promote_blob, remove_partial

logger = logging.getLogger(__name__)
T = TypeVar("T")

WRITE_BATCH_BYTES = 1024 * 1024
CHECKPOINT_BYTES = 64 * 1024 * 1024
ProgressCallback = Callable[[int, int], None]
"""Called with (bytes of this file on disk, bytes newly received)."""


async def fetch_blob(
    source: Source,
    target: Target,
    file: RemoteFile,
    layout: RepoLayout,
    *,
    on_progress: ProgressCallback,
) -> int:
    """Fetch ``file`` into its blob, verified; returns the bytes received over the network."""
    hasher = ContentHasher(file)
    start = await asyncio.to_thread(_resume_point, layout, target, file, hasher)
    if start:
        logger.info("resuming %s at byte %d of %d", file.path, start, file.size_bytes)
    on_progress(start, 0)
    received = 0
    if start < file.size_bytes or file.size_bytes == 0:
        received = await _receive(source, target, file, layout, hasher, start, on_progress)
    if not hasher.matches():
        await asyncio.to_thread(remove_partial, layout, file.blob_name)
        on_progress(0, 0)  # the bytes are gone: a retry after this has made no progress
        raise IntegrityError(
            f"{target.repo_id}/{file.path}: received data does not match the published "
            f"checksum {file.blob_name[:12]}… ({hasher.bytes_hashed} of {file.size_bytes} bytes)"
        )
    await run_to_completion(_promote, layout, file)
    return received


async def run_to_completion(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking ``fn`` in a worker thread and wait for it even if we are cancelled.

    Pausing cancels the task that holds a blob's lock; if the lock were released while a
    thread still wrote, renamed or fsynced that blob, another writer could step in.
    """
    future = asyncio.get_running_loop().run_in_executor(None, fn, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise


async def _receive(
    source: Source,
    target: Target,
    file: RemoteFile,
    layout: RepoLayout,
    hasher: ContentHasher,
    start: int,
    on_progress: ProgressCallback,
) -> int:
    partial = layout.incomplete_path(file.blob_name)
    async with source.open_file(target, file, start=start) as stream:
        if stream.start != start:
            # The server ignored our range (If-Range mismatch or no range support).
            logger.info("%s: server restarted the file from byte 0", file.path)
            hasher.reset()
            start = 0
        fh = await run_to_completion(_open_for_write, partial, start)
        record = PartialRecord(file.blob_name, file.size_bytes, target.commit, file.path)
        writer = _PrefixWriter(fh, hasher, start, on_progress, layout, record)
        try:
            async for chunk in stream.chunks():
                if writer.done + writer.buffered + len(chunk) > file.size_bytes:
                    await writer.close()
                    await asyncio.to_thread(remove_partial, layout, file.blob_name)
                    on_progress(0, 0)
                    raise IntegrityError(f"{file.path}: the server sent more bytes than published")
                await writer.add(chunk)
        finally:
            # Whatever arrived before a failure is a valid prefix: keep it for the resume.
            await writer.close()
    if writer.done < file.size_bytes:
        raise IncompleteTransferError(
            f"{target.repo_id}/{file.path}: the body ended at byte {writer.done} "
            f"of {file.size_bytes}"
        )
    return writer.done - start


class _PrefixWriter:
    """Appends received bytes to the partial file and hashes them in a worker thread.

    Bytes are batched so the thread hop is paid per megabyte, and the write of one batch
    overlaps the arrival of the next.
    """

    def __init__(
        self,
        fh: BinaryIO,
        hasher: ContentHasher,
        start: int,
        on_progress: ProgressCallback,
        layout: RepoLayout,
        record: PartialRecord,
    ) -> None:
        self._fh = fh
        self._hasher = hasher
        self._on_progress = on_progress
        self._layout = layout
        self._record = record
        self._checkpointed = start
        self._closed = False
        self._buffer = bytearray()
        self._pending: asyncio.Future[None] | None = None
        self.done = start
        """Bytes of the file handed to the writer thread (on disk once ``close`` returns)."""

    @property
    def buffered(self) -> int:
        """Bytes received but not yet handed to the writer thread."""
        return len(self._buffer)

    async def add(self, chunk: bytes) -> None:
        """Take the next received bytes."""
        self._buffer += chunk
        if len(self._buffer) >= WRITE_BATCH_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        await self._wait_pending()
        if not self._buffer:
            return
        data = bytes(self._buffer)
        self._buffer.clear()
        loop = asyncio.get_running_loop()
        self.done += len(data)
        checkpoint = self.done - self._checkpointed >= CHECKPOINT_BYTES
        if checkpoint:
            self._checkpointed = self.done
        self._pending = loop.run_in_executor(None, self._write, data, checkpoint, self.done)
        self._on_progress(self.done, len(data))

    async def _wait_pending(self) -> None:
        if self._pending is None:
            return
        pending, self._pending = self._pending, None
        try:
            await asyncio.shield(pending)
        except asyncio.CancelledError:
            # Paused mid-write: let the thread finish before the file and lock are let go.
            with contextlib.suppress(Exception):
                await pending
            raise

    async def close(self) -> None:
        """Write what is left, wait for the thread, close the file (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._flush()
            await self._wait_pending()
        finally:
            await run_to_completion(self._fh.close)

    def _write(self, data: bytes, checkpoint: bool, done: int) -> None:
        """Worker-thread side: append, hash, and now and then make the prefix durable."""
        try:
            self._fh.write(data)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise InsufficientSpaceError(
                    f"the disk filled up while writing {self._record.path}",
                    needed_bytes=self._record.size_bytes - done + len(data),
                    free_bytes=free_bytes(self._layout.blobs_dir),
                ) from exc
            raise
        self._hasher.update(data)
        if checkpoint:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            save_partial(self._layout, dataclasses.replace(self._record, durable_bytes=done))


def _resume_point(
    layout: RepoLayout, target: Target, file: RemoteFile, hasher: ContentHasher
) -> int:
    """Hash what an earlier attempt left and return where to continue from."""
    layout.blobs_dir.mkdir(parents=True, exist_ok=True)
    partial = layout.incomplete_path(file.blob_name)
    record = load_partial(layout, file.blob_name)
    try:
        size = partial.stat().st_size
    except FileNotFoundError:
        size = 0
    if size > file.size_bytes or (record is not None and size < record.durable_bytes):
        logger.info("%s: partial data is not trustworthy; starting the file again", file.path)
        partial.unlink(missing_ok=True)
        size = 0
    if record is None or size == 0:
        save_partial(
            layout, PartialRecord(file.blob_name, file.size_bytes, target.commit, file.path)
        )
    if size:
        hash_prefix(partial, hasher, size)
    return hasher.bytes_hashed


def _open_for_write(partial: Path, start: int) -> BinaryIO:
    fh = partial.open("r+b" if partial.exists() else "wb")
    fh.truncate(start)
    fh.seek(start)
    return fh


def _promote(layout: RepoLayout, file: RemoteFile) -> None:
    promote_blob(layout, file)
    layout.partial_record_path(file.blob_name).unlink(missing_ok=True)
