"""One file from a source to a verified blob: resume, stream-hash, verify, promote.

This is the seed's base ModelDownloader: it moves one file and knows no policy. Retrying,
scheduling and parallelism live in :mod:`modelward.transfer.downloader`.

Bytes are appended to ``blobs/{blob}.incomplete``. Appends are only ever a valid prefix of
the file, so after any crash (even ``kill -9``) the next attempt re-hashes that prefix and
asks the source for the rest with ``Range`` and ``If-Range``; a changed remote file answers
200 instead of 206 and restarts that file alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from modelward.errors import IncompleteTransferError, IntegrityError
from modelward.sources import RemoteFile, Source, Target
from modelward.store.hashing import ContentHasher, hash_prefix
from modelward.store.layout import RepoLayout
from modelward.store.records import PartialRecord, drop_partial, save_partial
from modelward.store.writer import promote_blob

logger = logging.getLogger(__name__)

WRITE_BATCH_BYTES = 1024 * 1024
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
    partial = layout.incomplete_path(file.blob_name)
    await asyncio.to_thread(_prepare, layout, target, file)
    hasher = ContentHasher(file)
    start = await asyncio.to_thread(_resume_point, partial, file, hasher)
    if start:
        logger.info("resuming %s at byte %d of %d", file.path, start, file.size_bytes)
    on_progress(start, 0)
    received = 0
    if start < file.size_bytes or file.size_bytes == 0:
        received = await _receive(source, target, file, partial, hasher, start, on_progress)
    if not hasher.matches():
        await asyncio.to_thread(_discard, layout, file)
        raise IntegrityError(
            f"{target.repo_id}/{file.path}: received data does not match the published "
            f"checksum {file.blob_name[:12]}… ({hasher.bytes_hashed} of {file.size_bytes} bytes)"
        )
    await asyncio.to_thread(_promote, layout, file)
    return received


async def _receive(
    source: Source,
    target: Target,
    file: RemoteFile,
    partial: Path,
    hasher: ContentHasher,
    start: int,
    on_progress: ProgressCallback,
) -> int:
    async with source.open_file(target, file, start=start) as stream:
        if stream.start != start:
            # The server ignored our range (If-Range mismatch or no range support).
            logger.info("%s: server restarted the file from byte 0", file.path)
            hasher.reset()
            start = 0
        fh = await asyncio.to_thread(_open_for_write, partial, start)
        writer = _PrefixWriter(fh, hasher, start, on_progress)
        try:
            async for chunk in stream.chunks():
                if writer.done + writer.buffered + len(chunk) > file.size_bytes:
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
        self, fh: BinaryIO, hasher: ContentHasher, start: int, on_progress: ProgressCallback
    ) -> None:
        self._fh = fh
        self._hasher = hasher
        self._on_progress = on_progress
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
        if self._pending is not None:
            await self._pending
            self._pending = None
        if not self._buffer:
            return
        data = bytes(self._buffer)
        self._buffer.clear()
        loop = asyncio.get_running_loop()
        self._pending = loop.run_in_executor(None, _write_and_hash, self._fh, self._hasher, data)
        self.done += len(data)
        self._on_progress(self.done, len(data))

    async def close(self) -> None:
        """Write what is left, wait for the thread, close the file."""
        try:
            await self._flush()
            if self._pending is not None:
                await self._pending
        finally:
            await asyncio.to_thread(self._fh.close)


def _write_and_hash(fh: BinaryIO, hasher: ContentHasher, chunk: bytes) -> None:
    fh.write(chunk)
    hasher.update(chunk)


def _prepare(layout: RepoLayout, target: Target, file: RemoteFile) -> None:
    layout.blobs_dir.mkdir(parents=True, exist_ok=True)
    save_partial(layout, PartialRecord(file.blob_name, file.size_bytes, target.commit, file.path))


def _resume_point(partial: Path, file: RemoteFile, hasher: ContentHasher) -> int:
    """Hash what an earlier attempt left and return where to continue from."""
    try:
        size = partial.stat().st_size
    except FileNotFoundError:
        return 0
    if size > file.size_bytes:
        partial.unlink()
        return 0
    hash_prefix(partial, hasher, size)
    return hasher.bytes_hashed


def _open_for_write(partial: Path, start: int) -> BinaryIO:
    fh = partial.open("r+b" if partial.exists() else "wb")
    fh.truncate(start)
    fh.seek(start)
    return fh


def _discard(layout: RepoLayout, file: RemoteFile) -> None:
    layout.incomplete_path(file.blob_name).unlink(missing_ok=True)
    drop_partial(layout, file.blob_name)


def _promote(layout: RepoLayout, file: RemoteFile) -> None:
    promote_blob(layout, file)
    drop_partial(layout, file.blob_name)
