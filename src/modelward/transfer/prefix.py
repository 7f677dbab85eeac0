"""The checksum of a file whose segments arrive side by side, computed in file order.

The sha256 (or git blob id) and the 16 MiB block digests take bytes in file order only.
A receiving thread whose bytes start exactly where the hashed prefix ends hashes them
straight from its receive buffer before writing them (hashlib and xxhash release the GIL
on large updates, so this runs beside the other connections). Bytes that arrived ahead of
the prefix, in other segments or before this attempt, are read back from the partial file
(the page cache) once the prefix reaches them: by a task, or by a receiving thread that
finds the prefix just behind its bytes. One lock keeps every update in file order, so a
stop at any moment leaves a hash of exactly the first ``bytes_hashed`` bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from modelward.errors import StoreError
from modelward.sources import RemoteFile
from modelward.store.hashing import BLOCK_BYTES, BlockHasher, ContentHasher
from modelward.store.records import BlockTable
from modelward.transfer.partial import PartialFile
from modelward.transfer.threads import run_to_completion

HASH_READ_BYTES = 4 * 1024 * 1024
# A thread whose bytes lie at most this far past the hashed prefix, the gap already on
# disk, reads the gap back itself and then hashes its own bytes from memory: it becomes
# the connection at the prefix now, rather than after the task has caught up, which
# takes longer than the thread's next read. Two segments' worth costs the thread some
# 30 ms, which the socket's buffer absorbs; a resumed file's long prefix stays the task's.
CATCH_UP_BYTES = 64 * 1024 * 1024


class PrefixHasher:
    """Hashes a file's contiguous prefix as it grows, and each 16 MiB block with it."""

    def __init__(self, file: RemoteFile, partial: PartialFile) -> None:
        self._file = file
        self._partial = partial
        self._content = ContentHasher(file)
        self._blocks = BlockHasher()
        self._lock = threading.Lock()
        """Held for every update, by receiving threads and the read-back task alike."""
        self._read_buffer = memoryview(bytearray(0))  # allocated when a read-back needs it
        self._stopped = False
        self.bytes_read_back = 0
        """Bytes hashed by reading them back from the partial file rather than from a
        receive buffer (they arrived ahead of the prefix, or before this attempt)."""
        self.block_table = BlockTable(BLOCK_BYTES, self._blocks.algorithm, ())
        self._wakeup = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"hash {file.path}")

    @property
    def bytes_hashed(self) -> int:
        """Bytes of the prefix hashed so far."""
        return self._content.bytes_hashed

    def matches(self) -> bool:
        """True when the whole file was hashed and matches the published checksum."""
        return self._content.matches()

    def wake(self) -> None:
        """New bytes were written; the prefix may have grown (call on the event loop)."""
        self._wakeup.set()

    def hash_received(self, offset: int, data: memoryview) -> None:
        """Hash ``data``, the file's bytes at ``offset`` that a receiving thread is about
        to write, if they continue the hashed prefix (blocking; any thread)."""
        # An unlocked look first: only a thread at (or just past) the prefix's end waits
        # for the lock; the others' bytes are read back later.
        if not 0 <= offset - self._content.bytes_hashed <= CATCH_UP_BYTES or self._stopped:
            return
        with self._lock:
            if self._stopped:
                return
            if self._content.bytes_hashed < offset <= self._partial.present.prefix_end:
                self._read_back(offset)
            if self._content.bytes_hashed == offset:
                self._feed(data)

    def _feed(self, data: memoryview) -> None:
        self._content.update(data)
        self._blocks.update(data)

    def _read_back(self, limit: int) -> None:
        """Hash the written bytes from the prefix's end up to ``limit`` (lock held)."""
        if not self._read_buffer:
            self._read_buffer = memoryview(bytearray(min(HASH_READ_BYTES, self._file.size_bytes)))
        while (start := self._content.bytes_hashed) < limit:
            view = self._read_buffer[: min(len(self._read_buffer), limit - start)]
            try:
                data = self._partial.read_into(start, view)
            except OSError as exc:
                raise StoreError(
                    f"cannot read back {self._file.path} from the store: {exc.strerror or exc}",
                    hint="Check the disk and the permissions of the cache directory.",
                ) from exc
            if not data:
                # Another program truncated it: a retry finds it so and starts it anew.
                raise StoreError(
                    f"the partial file of {self._file.path} shrank while it was being written",
                    hint="Keep other programs away from the cache directory's blobs.",
                    retryable=True,
                )
            self._feed(data)
            self.bytes_read_back += len(data)

    def _read_back_until(self, limit: int) -> None:
        # A piece at a time, so a receiving thread waits for the lock one piece at most
        # and a stop takes effect between pieces.
        while not self._stopped and self._content.bytes_hashed < limit:
            with self._lock:
                start = self._content.bytes_hashed
                self._read_back(min(limit, start + HASH_READ_BYTES))

    async def finish(self) -> None:
        """Wait until every byte of the file is hashed."""
        self.wake()
        await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Stop hashing (after a failure or a pause)."""
        self._stopped = True
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
            await run_to_completion(self._read_back_until, limit)
        # Under the lock: a receiving thread counts its bytes in the content hash before it
        # gives them to the block hasher, so the count can be whole while the last block
        # is still being fed.
        await run_to_completion(self._close_block_table)

    def _close_block_table(self) -> None:
        with self._lock:
            digests = tuple(self._blocks.hexdigests())
        self.block_table = BlockTable(BLOCK_BYTES, self._blocks.algorithm, digests)
