"""One writer per blob, and who a blob's segments queue behind.

Models of one repo share blobs, and other processes (another modelward, huggingface_hub)
write the same cache: a blob is written under an asyncio lock inside this process and
huggingface_hub's lock file across processes. A job waiting for a blob another job holds
lends it its rank, so a high-priority model never waits behind everything ranked between
it and the low-priority model writing the blob it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import filelock

from modelward.sources import RemoteFile, Target
from modelward.store.layout import RepoLayout
from modelward.store.locks import blob_file_lock
from modelward.store.writer import remove_partial
from modelward.transfer.queue import Job
from modelward.transfer.slots import ConnectionSlots
from modelward.transfer.threads import run_to_completion

logger = logging.getLogger(__name__)
LOCK_POLL_S = 0.5


class BlobLocks:
    """The in-process blob locks, the jobs waiting for each, and partial-file removal
    under those locks."""

    def __init__(self, slots: ConnectionSlots) -> None:
        self._slots = slots
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[str, dict[str, Job]] = {}
        """Jobs waiting for each blob lock; the holder's segments borrow their best rank."""

    def rank(self, key: str, job: Job) -> tuple[int, int]:
        """The rank a blob's segments get: its own job's, or a waiting job's if better."""
        waiting = self._waiters.get(key, {})
        return min([job.rank(), *(w.rank() for w in waiting.values())])

    @contextlib.asynccontextmanager
    async def hold(self, layout: RepoLayout, file: RemoteFile, job: Job) -> AsyncIterator[None]:
        """Write ``file``'s blob alone, in this process and across processes."""
        key = str(layout.lock_path(file.blob_name))
        local = self._locks.setdefault(key, asyncio.Lock())
        waiters = self._waiters.setdefault(key, {})
        waiters[job.model_id] = job
        self._slots.reorder()
        try:
            await local.acquire()
        finally:
            waiters.pop(job.model_id, None)
            self._slots.reorder()
        try:
            lock = await asyncio.to_thread(blob_file_lock, layout, file.blob_name)
            while True:
                try:
                    lock.acquire(timeout=0)
                    break
                except filelock.Timeout:
                    logger.info("waiting for another process writing %s", file.path)
                    await asyncio.sleep(LOCK_POLL_S)
            try:
                yield
            finally:
                lock.release()
        finally:
            local.release()

    async def remove_partials(self, layout: RepoLayout, target: Target) -> int:
        """Delete the target's partial files nobody is writing; returns the bytes freed."""
        freed = 0
        for file in target.files:
            local = self._locks.get(str(layout.lock_path(file.blob_name)))
            if local is not None and local.locked():
                continue  # another model shares this blob and is writing it right now
            lock = await asyncio.to_thread(blob_file_lock, layout, file.blob_name)
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                continue  # another process is writing it
            try:
                freed += await asyncio.to_thread(
                    _disk_usage, layout.incomplete_path(file.blob_name)
                )
                await run_to_completion(remove_partial, layout, file.blob_name)
            finally:
                lock.release()
        return freed


def _disk_usage(path: Path) -> int:
    """Bytes a (possibly sparse) file really occupies on disk."""
    try:
        return path.stat().st_blocks * 512
    except OSError:
        return 0
