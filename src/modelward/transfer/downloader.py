"""The download manager (the seed's EnhancedModelDownloader): jobs, retries, control.

A download is a job owned by this object, not by whoever asked for it: callers start it,
watch its progress through the event bus, and may pause, resume or cancel it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from modelward.db import Database
from modelward.errors import (
    ConfigError,
    ModelwardError,
    first_error,
)
from modelward.events import Event, EventBus, EventType
from modelward.sources import OfflineSource, RemoteFile, Source, Target, offline_error
from modelward.sources.mirror import not_the_hub
from modelward.store.manager import FileState, LocalModel
from modelward.store.records import VerifiedRecord
from modelward.transfer.base import EngineSettings, ModelDownloader
from modelward.transfer.blobs import BlobLocks
from modelward.transfer.fetch import AttemptMemory, FetchContext
from modelward.transfer.mirrored import (
    MirroredFetch,
    complete_on_disk,
    metadata_facts,
    team_leases,
    wire_mirrors,
)
from modelward.transfer.outcome import (
    failure,
    offline_shortfall,
    result_of,
    retry_listener,
    stopped_error,
)
from modelward.transfer.progress import (
    DownloadProgress,
    DownloadResult,
    DownloadStatus,
    JobFacts,
    ProgressTracker,
    derive_progress,
)
from modelward.transfer.queue import CancelResult, DownloadQueue, Job, Priority, QueueEntry
from modelward.transfer.remaining import ensure_room, files_in_place, resolve_target
from modelward.transfer.repairs import RepairHook
from modelward.transfer.retry import RetryPolicy, call_with_retry
from modelward.transfer.slots import ConnectionSlots
from modelward.transfer.threads import run_to_completion
from modelward.transfer.throttle import Throttle
from modelward.units import MB, check_rate

logger = logging.getLogger(__name__)


class EnhancedModelDownloader:
    """Downloads catalog models into the store with retries, resume and live progress."""

    def __init__(
        self,
        base_downloader: ModelDownloader,
        *,
        policy: RetryPolicy | None = None,
        connections: int | None = None,
        connections_per_file: int | None = None,
        segment_bytes: int | None = None,
        bandwidth_limit_bytes_per_s: float | None = None,
        bus: EventBus | None = None,
        db: Database | None = None,
        screen: Callable[[Path, Target, RemoteFile], None] | None = None,
    ) -> None:
        """``EnhancedModelDownloader(base_downloader)`` as the seed builds it; what is not
        given comes from the base downloader's settings (a database of its own included)."""
        self.base = base_downloader
        self.settings = base_downloader.settings
        self.manager = base_downloader.manager
        engine = EngineSettings.resolve(
            self.settings,
            policy=policy,
            connections=connections,
            connections_per_file=connections_per_file,
            segment_bytes=segment_bytes,
            bandwidth_limit_bytes_per_s=bandwidth_limit_bytes_per_s,
        )
        self.bus = bus or EventBus()
        self.progress = ProgressTracker()
        self.bus.subscribe(self.progress)
        self._screen = screen
        self._space_advisor: Callable[[str, int], Awaitable[str | None]] | None = None
        self.repairs = RepairHook(self)
        self._own_db = db is None
        self.db = db or Database(self.settings.effective_database_url, node=self.settings.node_name)
        self._policy = engine.policy
        self.slots = ConnectionSlots(engine.connections)
        self.throttle = Throttle(engine.bandwidth_limit_bytes_per_s)
        self._connections_per_file = engine.connections_per_file
        self._segment_bytes = engine.segment_bytes
        self.queue = DownloadQueue(self.db)
        self.mirrored = MirroredFetch(
            team_leases(self.db, self.settings),
            publish=self.settings.mirror_publish,
            max_leads=max(1, engine.connections // engine.connections_per_file),
        )
        self._blobs = BlobLocks(self.slots)
        """Jobs waiting for each blob lock; the holder's segments borrow their best rank."""

    @property
    def max_retries(self) -> int:
        """Retries a download gets when its caller does not say."""
        return self._policy.max_retries

    def configure(
        self, *, policy: RetryPolicy, connections_per_file: int, segment_bytes: int
    ) -> None:
        """Change the retry policy and segmentation; the next file a download fetches uses them."""
        self._policy = policy
        self._connections_per_file = connections_per_file
        self._segment_bytes = segment_bytes

    @property
    def endpoint(self) -> str:
        """The hub endpoint catalog entries without their own use."""
        return self.base.endpoint

    @property
    def offline(self) -> bool:
        """HF_HUB_OFFLINE: no source is contacted; pulls finish only from what is on disk."""
        return self.base.offline

    def source(self, model_id: str) -> Source:
        """The source that serves ``model_id``."""
        return self.base.source(model_id)

    async def download_with_retry(self, model_id: str, max_retries: int = 3) -> DownloadResult:
        """Download ``model_id`` until it is complete and verified, or fails for good."""
        await self.start_download(model_id, max_retries=max_retries)
        return await self.wait_for_completion(model_id)

    async def start_download(
        self,
        model_id: str,
        max_retries: int | None = None,
        priority: Priority | None = None,
        *,
        follow_upstream: bool = False,
    ) -> bool:
        """Start downloading in the background; False when it was already running (joined).

        A model already on disk is completed (or repaired) at the commit it is served at;
        only ``follow_upstream`` fetches the newest commit of its revision, which is what an
        update does, so a download never switches versions behind the updater's back.
        """
        self.manager.spec(model_id)  # unknown ids fail here, not inside the task
        previous = self.queue.get(model_id)
        if previous is not None and previous.running:
            if priority is not None:
                await self.set_priority(model_id, priority)
            return False
        job = self.queue.put(
            Job(
                model_id,
                self._policy.max_retries if max_retries is None else max_retries,
                priority=priority or (previous.priority if previous else Priority.NORMAL),
                follow_upstream=follow_upstream,
            )
        )
        # The task exists before any await, so a second start, a pause or a cancel arriving
        # meanwhile all see one running job.
        job.status = DownloadStatus.QUEUED
        job.task = asyncio.create_task(self._run(job), name=f"download {model_id}")
        self._emit(EventType.DOWNLOAD_QUEUED, model_id, priority=job.priority.value)
        return True

    async def restore_queue(self, *, start: bool = True) -> list[QueueEntry]:
        """Bring back the queue a previous run left: paused stays paused, the rest starts
        (``start`` False, for a command with no service running: the rest waits, queued)."""
        for row in await asyncio.to_thread(self.queue.load):
            if row.model_id not in self.manager.catalog:
                logger.info("dropping %s from the queue: no longer in the catalog", row.model_id)
                continue
            priority = Priority(row.priority) if row.priority in set(Priority) else Priority.NORMAL
            waiting = row.state in (DownloadStatus.PAUSED, DownloadStatus.FAILED)
            if waiting or not start:
                status = DownloadStatus(row.state) if waiting else DownloadStatus.QUEUED
                job = self.queue.put(
                    Job(row.model_id, row.max_retries, priority=priority, status=status)
                )
                job.order = row.position
                self._emit(EventType.DOWNLOAD_QUEUED, row.model_id, priority=priority.value)
                self._emit(
                    EventType.DOWNLOAD_STATE,
                    row.model_id,
                    status=status.value,
                    message="paused before the restart" if row.state == "paused" else None,
                )
            else:
                await self.start_download(row.model_id, row.max_retries, priority)
                if (started := self.queue.get(row.model_id)) is not None:
                    started.order = row.position
        self.slots.reorder()
        return self.queue.entries()

    async def wait_for_completion(self, model_id: str) -> DownloadResult:
        """Wait until the model's current job ends and return how it ended."""
        job = self.queue.get(model_id)
        if job is None or job.task is None:
            raise ModelwardError(
                f"no download of {model_id} was started",
                hint=f"Start it with 'modelward pull {model_id}'.",
            )
        return await asyncio.shield(job.task)

    def attach_space_advisor(self, advisor: Callable[[str, int], Awaitable[str | None]]) -> None:
        """Let a refused download say what could be freed (given the model and the bytes
        short)."""
        self._space_advisor = advisor

    async def pause_download(self, model_id: str) -> bool:
        """Stop transferring, keeping partial data; the model stays paused across restarts."""
        self.manager.spec(model_id)
        job = self.queue.get(model_id)
        if job is None or job.status not in (
            DownloadStatus.QUEUED,
            DownloadStatus.DOWNLOADING,
            DownloadStatus.VERIFYING,
        ):
            return False
        if not await self._stop(job, DownloadStatus.PAUSED):
            await self._set_status(job, DownloadStatus.PAUSED)
            self._emit(EventType.DOWNLOAD_STATE, model_id, status=DownloadStatus.PAUSED.value)
        return True

    async def resume_download(self, model_id: str) -> bool:
        """Continue a paused or failed download from its partial data."""
        job = self.queue.get(model_id)
        if job is not None and job.running:
            return False
        await self.start_download(model_id, job.max_retries if job else None)
        return True

    async def cancel(self, model_id: str) -> CancelResult:
        """Stop the download, delete its partial data (verified files stay) and say how much
        space that freed."""
        self.manager.spec(model_id)
        job = self.queue.get(model_id)
        stopped = job is not None and await self._stop(job, DownloadStatus.CANCELLED)
        target = job.target if job else None
        target = target or await asyncio.to_thread(self.manager.known_target, model_id)
        freed = (
            await self._blobs.remove_partials(self.manager.repo_layout(target.repo_id), target)
            if target is not None
            else 0
        )
        if job is not None and not stopped:
            await self._set_status(job, DownloadStatus.CANCELLED)
            self._emit(EventType.DOWNLOAD_STATE, model_id, status=DownloadStatus.CANCELLED.value)
        self._emit(EventType.DOWNLOAD_CANCELLED, model_id, freed_bytes=freed)
        return CancelResult(model_id, stopped, freed)

    async def cancel_download(self, model_id: str) -> bool:
        """Stop the download and delete its partial data (the seed's form of :meth:`cancel`)."""
        result = await self.cancel(model_id)
        return result.stopped or result.freed_bytes > 0

    async def move_in_queue(self, model_id: str, position: int) -> list[str]:
        """Put a model at ``position`` (1 = first) of the queue order; returns the order.

        Within a priority level, connections go to the model that is earlier in this order.
        """
        self.manager.spec(model_id)
        if self.queue.get(model_id) is None:
            self.queue.put(
                Job(model_id, self._policy.max_retries, status=DownloadStatus.NOT_STARTED)
            )
        order = self.queue.move(model_id, position)
        self.slots.reorder()
        await self.queue.save_all()
        self._emit_global(EventType.QUEUE_CHANGED, order=order)
        return order

    async def queue_entries(self) -> list[QueueEntry]:
        """Active downloads in the order they get connections. A paused or failed job whose
        model is complete on disk now (another process or an adopt finished it) is over,
        as ``/download`` says: it is left out."""
        entries = [e for e in self.queue.entries() if not await self._done_elsewhere(e)]
        return [dataclasses.replace(e, position=i) for i, e in enumerate(entries, start=1)]

    async def _done_elsewhere(self, entry: QueueEntry) -> bool:
        if self.is_running(entry.model_id):
            return False
        local = await self.manager.inspect_known(entry.model_id)
        return local is not None and local.complete

    async def get_download_progress(self, model_id: str) -> DownloadProgress:
        """The model's download now (see :func:`~modelward.transfer.progress.derive_progress`):
        the job's state, and the bytes of the running job or else of what is on disk."""
        self.manager.spec(model_id)
        local = None
        job = self.queue.get(model_id)
        tracked = self.progress.get(model_id)
        if not (job and job.running and tracked and tracked.total_bytes):
            local = await self.manager.inspect_known(model_id)
        return self.progress_now(model_id, local)

    def progress_now(
        self, model_id: str, local: LocalModel | None, with_files: bool = True
    ) -> DownloadProgress:
        """The model's download given ``local``, what the store holds for it (the status
        passes the look it made, so both speak of the same moment; it shows only totals,
        ``with_files=False``)."""
        job = self.queue.get(model_id)
        facts = JobFacts(job.status, job.running) if job else None
        tracked = self.progress.get(model_id)
        return derive_progress(
            model_id, job=facts, tracked=tracked, local=local, with_files=with_files
        )

    async def set_bandwidth_limit(self, limit_mbps: float) -> bool:
        """The seed's call: cap the total rate at ``limit_mbps`` MB/s (10**6 bytes/s; 0 =
        unlimited). The service and the CLI use :meth:`set_rate_limit`, in bytes/s."""
        if not math.isfinite(limit_mbps):
            raise ConfigError(f"bandwidth limit {limit_mbps} MB/s is not a number")
        return await self.set_rate_limit(round(limit_mbps * MB))

    async def set_rate_limit(self, rate_bytes_per_s: int, model_id: str | None = None) -> bool:
        """Cap the total rate of all downloads, or only ``model_id``'s, in bytes/s (0 removes
        the cap). Takes effect on running transfers with their next chunk."""
        check_rate(rate_bytes_per_s)
        if model_id is not None:
            self.manager.spec(model_id)
            self.throttle.set_model_rate(model_id, rate_bytes_per_s)
            return True
        self.throttle.global_bucket.set_rate(rate_bytes_per_s)
        self._emit_global(EventType.BANDWIDTH_CHANGED, limit_bytes_per_s=rate_bytes_per_s)
        return True

    @property
    def rate_limit_bytes_per_s(self) -> int:
        """The cap on the total rate in bytes/s (0 = unlimited)."""
        return round(self.throttle.global_bucket.rate_bytes_per_s)

    async def set_priority(self, model_id: str, priority: Priority) -> bool:
        """Change how urgently a model is wanted; waiting connections are re-ranked at once.

        A running model of lower priority keeps the segments it is fetching and gives its
        connections up as each segment ends.
        """
        self.manager.spec(model_id)
        job = self.queue.get(model_id)
        if job is None:
            job = self.queue.put(
                Job(model_id, self._policy.max_retries, status=DownloadStatus.NOT_STARTED)
            )
        job.priority = priority
        self.slots.reorder()
        await self.queue.save(job)
        self._emit(EventType.DOWNLOAD_PRIORITY, model_id, priority=priority.value)
        return True

    def is_running(self, model_id: str) -> bool:
        """True while a job for the model is transferring or verifying."""
        job = self.queue.get(model_id)
        return bool(job and job.running)

    def running_commit(self, model_id: str) -> str | None:
        """The commit a running job of the model is fetching (None: none, or not resolved
        yet)."""
        job = self.queue.get(model_id)
        if job is None or not job.running or job.target is None:
            return None
        return job.target.commit

    def job_target(self, model_id: str) -> Target | None:
        """What the model's latest job of this process fetched or is fetching (None: no
        job, or not resolved yet)."""
        job = self.queue.get(model_id)
        return job.target if job is not None else None

    async def verify_and_repair_model(self, model_id: str) -> Any:
        """The seed's call: fully check ``model_id`` and fetch again only what is damaged or
        missing; a :class:`~modelward.health.RepairResult` (done by the health monitor)."""
        return await self.repairs.get().verify_and_repair_model(model_id)

    async def aclose(self) -> None:
        """Stop every running job for a shutdown: partial data stays, and the queue keeps
        them as they were so the next start continues them."""
        await self.repairs.aclose()
        for job in self.queue.jobs():
            await self._stop(job, None)
        await self.base.aclose()
        if self._own_db:
            self.db.close()

    async def _stop(self, job: Job, reason: DownloadStatus | None) -> bool:
        """Cancel the job's task; ``reason`` None means a shutdown, not a user's decision."""
        if job.task is None or job.task.done():
            return False
        job.stop_reason = reason
        job.shutting_down = reason is None
        job.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job.task
        if job.task.cancelled() and reason is not None:
            # Cancelled before its first step, so _run could not record the outcome.
            await self._finish(job, reason, None)
        return True

    async def _run(self, job: Job) -> DownloadResult:
        try:
            await self._set_status(job, DownloadStatus.QUEUED)
            await self._download(job)
        except asyncio.CancelledError:
            if job.stop_reason is None and not job.shutting_down:
                raise
            if job.shutting_down:
                # Not the user's decision: the queue keeps the job as it was for next time.
                return result_of(job, DownloadStatus.PAUSED, None, offline=self.offline)
            reason = job.stop_reason or DownloadStatus.PAUSED
            return await self._finish(job, reason, stopped_error(job, reason))
        except Exception as exc:  # every failure ends as a result, never as a lost task
            error = failure(job, exc, self.manager.cache_dir)
            return await self._finish(job, DownloadStatus.FAILED, error)
        return await self._finish(job, DownloadStatus.COMPLETED, None)

    async def _set_status(self, job: Job, status: DownloadStatus) -> None:
        job.status = status
        await self.queue.save(job)

    async def _download(self, job: Job) -> None:
        await self._set_status(job, DownloadStatus.DOWNLOADING)
        source = self.source(job.model_id)
        if self.offline and (
            isinstance(source, OfflineSource) or await complete_on_disk(self.manager, job.model_id)
        ):
            await self._complete_offline(job)
            return
        wire_mirrors(source, lambda bad: self._emit(EventType.MIRROR_BAD_COPY, job.model_id, **bad))
        policy = dataclasses.replace(self._policy, max_retries=job.max_retries)
        target = await self._resolve(job, source, policy)
        job.target = target
        await asyncio.to_thread(self.manager.remember, target)
        local = await self.manager.inspect(target)
        await ensure_room(self.manager.cache_dir, job.model_id, local, self._space_advisor)
        facts = metadata_facts(source)
        job.metadata_from = not_the_hub(facts.get("metadata_from"))
        self._announce(job, local, **facts)
        for lf in local.files:
            if lf.state is FileState.VERIFIED:
                self._emit(EventType.FILE_VERIFIED, job.model_id, path=lf.file.path, fetched=False)
        await self._fetch_all(job, source, local, policy)
        await asyncio.to_thread(self.manager.finish, target)

    async def _resolve(self, job: Job, source: Source, policy: RetryPolicy) -> Target:
        on_retry = retry_listener(job, self._emit)
        return await resolve_target(self.manager, job, source, policy, on_retry)

    async def _fetch_all(
        self, job: Job, source: Source, local: LocalModel, policy: RetryPolicy
    ) -> None:
        """Fetch every file not verified yet, side by side; a stopped job ends cancelled."""
        # UNLINKED files need no bytes, only their snapshot link: the fetch step sees the
        # verified record and links them.
        todo = [lf.file for lf in local.files if lf.state is not FileState.VERIFIED]
        try:
            async with asyncio.TaskGroup() as group:
                for file in todo:
                    group.create_task(
                        self._fetch_with_retry(job, source, local.target, file, policy)
                    )
        except BaseExceptionGroup as failures:
            raise first_error(failures) from failures
        if job.stop_reason is not None or job.shutting_down:
            raise asyncio.CancelledError  # a stopped file task ends quietly; so must we

    def _announce(self, job: Job, local: LocalModel, **extra: object) -> None:
        """DOWNLOAD_STARTED: each file with what of it is already in place."""
        self._emit(
            EventType.DOWNLOAD_STARTED,
            job.model_id,
            files=files_in_place(local),
            commit=local.target.commit,
            max_retries=job.max_retries,
            **extra,
        )

    async def _complete_offline(self, job: Job) -> None:
        """Offline: finish a model whose files are all on disk and verified, against the
        manifest recorded when it was last resolved; contact nothing, fetch nothing."""
        target = await asyncio.to_thread(self.manager.known_target, job.model_id)
        if target is None:
            raise offline_error(
                f"{job.model_id} was never resolved here, so its files are not known"
            )
        job.target = target
        local = await self.manager.inspect(target)
        if (shortfall := offline_shortfall(job.model_id, local)) is not None:
            raise shortfall
        self._announce(job, local, offline=True)
        for lf in local.files:
            if lf.state is FileState.UNLINKED:
                await asyncio.to_thread(self.manager.link, target, lf.file)
            self._emit(EventType.FILE_VERIFIED, job.model_id, path=lf.file.path, fetched=False)
        await asyncio.to_thread(self.manager.finish, target)

    async def _fetch_with_retry(
        self, job: Job, source: Source, target: Target, file: RemoteFile, policy: RetryPolicy
    ) -> None:
        layout = self.manager.repo_layout(target.repo_id)
        on_disk = [0]

        def on_progress(done: int, new: int) -> None:
            on_disk[0] = done
            job.bytes_fetched += new  # counted as received, so failed attempts count too
            self._emit(
                EventType.FILE_BYTES, job.model_id, path=file.path, done_bytes=done, new_bytes=new
            )

        def note(words: str | None) -> None:
            self._emit(EventType.DOWNLOAD_WAITING, job.model_id, path=file.path, note=words)

        memory = AttemptMemory()
        lock_key = str(layout.lock_path(file.blob_name))
        ctx = FetchContext(
            source=source,
            layout=layout,
            on_progress=on_progress,
            slot=lambda: self.slots.slot(lambda: self._blobs.rank(lock_key, job)),
            throttle=self.throttle.for_model(job.model_id),
            segment_bytes=self._segment_bytes,
            connections=self._connections_per_file,
            screen=self._screen,
        )

        async def attempt() -> None:
            async with self._blobs.hold(layout, file, job):
                if not await asyncio.to_thread(VerifiedRecord(layout).is_verified, file.blob_name):
                    try:
                        await self.mirrored.fetch(
                            self.base.fetch_file, target, file, ctx, memory, note
                        )
                    except ModelwardError:
                        if job.stop_reason is not None or job.shutting_down:
                            # Paused while a segment failed: the pause wins, no retry.
                            raise asyncio.CancelledError from None
                        raise
                # Also for a blob another job (or process) finished meanwhile: link it here.
                await run_to_completion(self.manager.mark_verified, target, file)

        await call_with_retry(
            attempt,
            policy,
            progress=lambda: on_disk[0],
            on_retry=retry_listener(job, self._emit, file.path, memory.take_failed_requests),
        )
        self._emit(EventType.FILE_VERIFIED, job.model_id, path=file.path, fetched=True)

    async def _finish(
        self, job: Job, status: DownloadStatus, error: ModelwardError | None
    ) -> DownloadResult:
        await self._set_status(job, status)
        self._emit(
            EventType.DOWNLOAD_STATE,
            job.model_id,
            status=status.value,
            message=error.message if error else None,
            code=error.code if error else None,
            hint=error.hint if error else None,
            # How the job went, so a client following the stream reports the service's
            # own figures (a CLI pull's final line).
            size_bytes=job.target.size_bytes if job.target else None,
            bytes_fetched=job.bytes_fetched,
            elapsed_s=round(time.monotonic() - job.started_at, 3),
            retries=job.retries,
            offline=self.offline,
            metadata_from=job.metadata_from,
        )
        return result_of(job, status, error, offline=self.offline)

    def _emit(self, type_: str, model_id: str, **data: object) -> None:
        self.bus.publish(Event(type_, model_id, dict(data)))

    def _emit_global(self, type_: str, **data: object) -> None:
        self.bus.publish(Event(type_, None, dict(data)))
