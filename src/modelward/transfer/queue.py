"""The download queue: each model's job, its priority and place in line, kept durable.

The queue decides who gets connections (priority, then explicit order) and survives
restarts: a paused model stays paused, queued and running ones start again in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum

from modelward.db import Database, DownloadRow
from modelward.errors import InsufficientSpaceError
from modelward.sources import Target
from modelward.transfer.progress import DownloadResult, DownloadStatus
from modelward.transfer.threads import run_to_completion

logger = logging.getLogger(__name__)


class Priority(StrEnum):
    """How urgently a model is wanted; connections go to higher priorities first."""

    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for the most urgent."""
        return list(Priority).index(self)


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One model in the queue, as callers see it."""

    model_id: str
    priority: Priority
    position: int
    """Place in line, counted as people count: 1 gets connections first."""
    status: DownloadStatus


@dataclass(frozen=True, slots=True)
class CancelResult:
    """What cancelling a download did."""

    model_id: str
    stopped: bool
    freed_bytes: int


@dataclass
class Job:
    """One model's download: its place in the queue and the state of its current run."""

    model_id: str
    max_retries: int
    priority: Priority = Priority.NORMAL
    order: int = 0
    status: DownloadStatus = DownloadStatus.QUEUED
    task: asyncio.Task[DownloadResult] | None = None
    stop_reason: DownloadStatus | None = None
    shutting_down: bool = False
    target: Target | None = None
    follow_upstream: bool = False
    """Fetch the newest commit of the revision (an update), not the one served."""
    retries: int = 0
    bytes_fetched: int = 0
    started_at: float = field(default_factory=time.monotonic)
    metadata_from: str | None = None
    """Where the run's files and checksums came from when not from the Hub (a mirror's
    manifest)."""

    def rank(self) -> tuple[int, int]:
        """Who goes first for a connection: priority, then queue order."""
        return self.priority.rank, self.order

    @property
    def running(self) -> bool:
        """True while its task transfers or verifies."""
        return self.task is not None and not self.task.done()


_ACTIVE = (
    DownloadStatus.QUEUED,
    DownloadStatus.DOWNLOADING,
    DownloadStatus.VERIFYING,
    DownloadStatus.PAUSED,
    DownloadStatus.FAILED,
)


class DownloadQueue:
    """Jobs by model id, in queue order, mirrored to the database when there is one."""

    def __init__(self, db: Database | None = None) -> None:
        self._db = db
        self._jobs: dict[str, Job] = {}
        self._write_lock = asyncio.Lock()

    def get(self, model_id: str) -> Job | None:
        """The model's job, if it has one."""
        return self._jobs.get(model_id)

    def jobs(self) -> list[Job]:
        """Every job."""
        return list(self._jobs.values())

    def put(self, job: Job) -> Job:
        """Add or replace a job, at the end of the line unless it had a place."""
        previous = self._jobs.get(job.model_id)
        keeps_place = previous is not None and previous.status not in (
            DownloadStatus.COMPLETED,
            DownloadStatus.CANCELLED,
        )
        job.order = previous.order if previous and keeps_place else self._next_order()
        self._jobs[job.model_id] = job
        return job

    def entries(self) -> list[QueueEntry]:
        """Active jobs in the order they get connections."""
        active = sorted(
            (j for j in self._jobs.values() if j.status in _ACTIVE), key=lambda j: j.rank()
        )
        return [
            QueueEntry(j.model_id, j.priority, i, j.status) for i, j in enumerate(active, start=1)
        ]

    def move(self, model_id: str, position: int) -> list[str]:
        """Put a model at ``position`` of the explicit order (1 = first); returns the order."""
        ordered = sorted(
            (j for j in self._jobs.values() if j.status in _ACTIVE), key=lambda j: j.order
        )
        job = self._jobs[model_id]
        if job in ordered:
            ordered.remove(job)
        ordered.insert(max(0, min(position - 1, len(ordered))), job)
        for index, j in enumerate(ordered):
            j.order = index
        return [j.model_id for j in ordered]

    def _next_order(self) -> int:
        return max((j.order for j in self._jobs.values()), default=-1) + 1

    async def save(self, job: Job) -> None:
        """Write one job's queue entry (or delete it once it is over)."""
        await self._write([self._row(job)])

    async def save_all(self) -> None:
        """Write every job's entry (after a reorder)."""
        await self._write([self._row(job) for job in self._jobs.values()])

    def _row(self, job: Job) -> tuple[str, DownloadRow | None]:
        # Built on the event loop, so a write reflects the job as it was when asked for.
        if job.status in (
            DownloadStatus.COMPLETED,
            DownloadStatus.CANCELLED,
            DownloadStatus.NOT_STARTED,
        ):
            return job.model_id, None
        return job.model_id, DownloadRow(
            job.model_id, job.status.value, job.priority.value, job.order, job.max_retries
        )

    async def _write(self, rows: list[tuple[str, DownloadRow | None]]) -> None:
        if self._db is None:
            return
        db = self._db

        def write() -> None:
            for model_id, row in rows:
                if row is None:
                    db.delete_download(model_id)
                else:
                    db.save_download(row)

        async with self._write_lock:  # writes land in the order they were asked for
            try:
                await run_to_completion(write)
            except InsufficientSpaceError as full:
                # The queue is a hint (the store is the truth): a full MODELWARD_HOME costs
                # the saved order and marks, never the job's own outcome or a lost task.
                logger.warning("cannot save the download queue: %s", full)

    def load(self) -> list[DownloadRow]:
        """Stored queue entries, in order (blocking)."""
        return self._db.load_downloads() if self._db else []
