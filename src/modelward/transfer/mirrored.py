"""Fetching one file when team mirrors are configured: from a mirror if one holds it, else
once for the whole team under a lease, and never installing a mirror copy that does not
verify.

- A mirror holds the blob: the engine reads it from there (``MirroredSource``); if the
  bytes do not match the Hub's checksum, that copy is refused and reported, and the file
  is fetched again at once from the next mirror or the Hub (no retry counted).
- Every mirror answered that it lacks the blob, and the database is shared: one node
  claims the blob's lease, fetches it from the Hub and publishes it to the first mirror;
  the others show "waiting for gpu-3 to publish: 41%" and then read it from the mirror. A
  leader that stops renewing is replaced once its lease lapses; the new one fetches what
  it lacks itself and continues the mirror's multipart upload.
- A bad copy is replaced in the mirror by the verified blob when this node publishes
  (``mirror_publish``, or a node of a team).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import threading
from collections.abc import Awaitable, Callable

from modelward.db import Database
from modelward.errors import IntegrityError, MirrorError, ModelwardError, StoreError
from modelward.settings import Settings
from modelward.sources.bucket import MirrorBucket, upload_blob
from modelward.sources.files import RemoteFile, Target
from modelward.sources.mirror import MirroredSource
from modelward.store.manager import ModelManager
from modelward.transfer.fetch import AttemptMemory, FetchContext
from modelward.transfer.leases import (
    FETCHING,
    PUBLISHED,
    PUBLISHING,
    BlobLeases,
    LeaseView,
    waiting_for,
)
from modelward.transfer.threads import start_thread

logger = logging.getLogger(__name__)

FetchFile = Callable[[Target, RemoteFile, FetchContext, AttemptMemory], Awaitable[None]]
WaitNote = Callable[[str | None], None]
"""Shows (or, with None, clears) why this file waits."""

POLL_S = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class FileJob:
    """One file to fetch and what fetching it needs."""

    fetch: FetchFile
    target: Target
    file: RemoteFile
    ctx: FetchContext
    memory: AttemptMemory
    note: WaitNote

    @property
    def source(self) -> MirroredSource:
        """The mirrored source the file comes from."""
        assert isinstance(self.ctx.source, MirroredSource)
        return self.ctx.source

    async def run(self, ctx: FetchContext | None = None) -> None:
        """Fetch the file once (with ``ctx`` in place of the job's own, when given)."""
        await self.fetch(self.target, self.file, ctx or self.ctx, self.memory)


class MirroredFetch:
    """The mirror-aware way to fetch a file; a plain fetch when the source has no mirror."""

    def __init__(self, leases: BlobLeases | None, *, publish: bool, max_leads: int = 4) -> None:
        self.leases = leases
        """The team's leases (None: the database is this node's own, so there is no team)."""
        self.publish = publish or leases is not None
        """Whether this node writes to the mirror (replacing bad copies): when it publishes
        what it pulls, or as one of a team, whose leaders write it anyway."""
        self._leads = asyncio.Semaphore(max_leads)
        """Blobs this node leads at once: a node that claimed every blob of a model the
        moment it asked would fetch them all alone while its team waited; capped, the other
        nodes lead the rest, and the Hub's bandwidth of each node is used."""
        self._local: dict[str, asyncio.Lock] = {}
        """One job of this process at a time deals with the team for a blob (two models may
        share one): the others find it published when their turn comes."""

    async def fetch(
        self,
        fetch: FetchFile,
        target: Target,
        file: RemoteFile,
        ctx: FetchContext,
        memory: AttemptMemory,
        note: WaitNote,
    ) -> None:
        """Fetch ``file`` into its verified blob, through the mirrors when there are any."""
        source = ctx.source
        if not isinstance(source, MirroredSource) or not source.mirrors:
            await fetch(target, file, ctx, memory)
            return
        job = FileJob(fetch, target, file, ctx, memory, note)
        holder = await asyncio.to_thread(source.holder, file)
        if holder is None and self._as_team_for(source, file):
            async with self._local.setdefault(file.blob_name, asyncio.Lock()):
                await self._as_team(job)
            return
        await self._verified(job)

    def _as_team_for(self, source: MirroredSource, file: RemoteFile) -> bool:
        """Whether the team's lease decides who fetches ``file`` from the Hub: a shared
        database, a Hub to ask, and every mirror sure it lacks the blob."""
        return self.leases is not None and source.inner is not None and source.known_absent(file)

    async def _verified(self, job: FileJob, ctx: FetchContext | None = None) -> None:
        """Fetch; bytes from a mirror that do not verify are refused and the file fetched
        again from the next mirror or the Hub, and the bad copy replaced when allowed."""
        bad: MirrorBucket | None = None
        while True:
            try:
                await job.run(ctx)
                break
            except IntegrityError as mismatch:
                mirror = job.source.served_by(job.file)
                if mirror is None:
                    raise
                bad = mirror
                job.source.refuse(job.file, mismatch.message)
        if bad is not None and self.publish:
            await self._replace(bad, job)

    async def _replace(self, mirror: MirrorBucket, job: FileJob) -> None:
        path = job.ctx.layout.blob_path(job.file.blob_name)
        upload = functools.partial(upload_blob, mirror, path, job.file.blob_name)
        try:
            await start_thread(upload, name=f"replace {job.file.path}")
            logger.info("replaced the bad copy of %s in %s", job.file.path, mirror)
        except (MirrorError, OSError) as exc:
            logger.warning(
                "cannot replace the bad copy of %s in %s: %s", job.file.path, mirror, exc
            )

    async def _as_team(self, job: FileJob) -> None:
        """Lead the blob for the team, or wait for its leader to publish it."""
        assert self.leases is not None
        leases, source, file = self.leases, job.source, job.file
        mirror = source.mirrors[0]
        while True:
            lease = await asyncio.to_thread(leases.peek, file.blob_name)
            if lease is None or lease.lapsed() or lease.holder == leases.node:
                if self._leads.locked():
                    await asyncio.sleep(POLL_S)  # leading enough now; another node may take it
                    continue
                async with self._leads:
                    lease = await asyncio.to_thread(
                        leases.claim, file.blob_name, str(mirror), file.size_bytes
                    )
                    if lease.holder == leases.node and lease.state != PUBLISHED:
                        await self._lead(job, mirror)
                        return
            if await self._wait_for(lease, job):
                job.note(None)
                await self._verified(job)
                return
            if not source.known_absent(file):
                await self._verified(job)  # a mirror cannot be asked: no team for it now
                return
            if lease.state == PUBLISHED:
                # Published once, gone from the mirror since (pruned): lead it afresh.
                await asyncio.to_thread(leases.forget_published, file.blob_name)

    async def _wait_for(self, lease: LeaseView, job: FileJob) -> bool:
        """Wait while another node leads the blob; True once the mirror holds it, False when
        the lease lapsed or was given up (then this node tries to lead)."""
        assert self.leases is not None
        current: LeaseView | None = lease
        shown: str | None = None
        while current is not None and not current.lapsed() and current.state != PUBLISHED:
            words = waiting_for(current)
            if words != shown:  # one event per change, not one per poll
                job.note(words)
                shown = words
            await asyncio.sleep(POLL_S)
            with contextlib.suppress(StoreError):  # the database is back within its retries
                current = await asyncio.to_thread(self.leases.peek, job.file.blob_name)
        job.source.look_again(job.file)
        return await asyncio.to_thread(job.source.holder, job.file) is not None

    async def _lead(self, job: FileJob, mirror: MirrorBucket) -> None:
        """Fetch the blob from the Hub and publish it to ``mirror``, renewing the lease. A
        retryable failure keeps the lease (the retry leads again; if it does not come back
        in time, the lease lapses to another node); a stop or a lasting failure frees it."""
        assert self.leases is not None
        leases, file = self.leases, job.file
        progress = _Progress()
        stop = threading.Event()
        renewing = asyncio.create_task(_renew(leases, file.blob_name, progress))
        try:
            job.source.hub_only(file)
            counted = dataclasses.replace(job.ctx, on_progress=progress.wrap(job.ctx.on_progress))
            await self._verified(job, counted)
            if progress.lost:
                logger.warning("another node took %s over; it publishes it", file.path)
                return
            progress.start_publishing()
            path = job.ctx.layout.blob_path(file.blob_name)
            upload = functools.partial(
                upload_blob, mirror, path, file.blob_name, on_progress=progress.uploaded, stop=stop
            )
            await start_thread(upload, name=f"publish {file.path}")
        except MirrorError as exc:
            # This node cannot write the mirror: the file is here and verified; another
            # node may lead for itself.
            logger.warning("cannot publish %s to %s: %s", file.path, mirror, exc)
            await _let_go(renewing, leases.give_up, file.blob_name)
            return
        except BaseException as exc:
            stop.set()  # paused or cancelled: no more parts (those sent stay for a resume)
            keep = isinstance(exc, ModelwardError) and exc.retryable
            await _let_go(renewing, None if keep else leases.give_up, file.blob_name)
            raise
        await _let_go(renewing, leases.published, file.blob_name)
        logger.info("fetched %s for the team and published it to %s", file.path, mirror)


@dataclasses.dataclass(slots=True)
class _Progress:
    """The leader's progress on one blob, as its lease row records it."""

    done: int = 0
    publishing: bool = False
    lost: bool = False
    """The lease was taken over (this node stopped renewing in time): another node leads."""
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def wrap(self, on_progress: Callable[[int, int], None]) -> Callable[[int, int], None]:
        """``on_progress``, also keeping the bytes of the file on disk."""

        def counted(done: int, new: int) -> None:
            self.done = done
            on_progress(done, new)

        return counted

    def start_publishing(self) -> None:
        """The fetch is over; the upload starts from zero."""
        self.done, self.publishing = 0, True

    def uploaded(self, count: int) -> None:
        """``count`` more bytes are in the bucket (called from the upload's threads)."""
        with self._lock:
            self.done += count


async def _renew(leases: BlobLeases, blob: str, progress: _Progress) -> None:
    """Renew the lease a quarter of its lifetime apart, with the leader's progress."""
    while True:
        state = PUBLISHING if progress.publishing else FETCHING
        try:
            if not await asyncio.to_thread(leases.renew, blob, progress.done, state):
                progress.lost = True
                return
        except StoreError as exc:
            # The database is away for longer than its own retries: try at the next beat;
            # the lease lapses meanwhile only if it stays away longer than its lifetime.
            logger.warning("cannot renew the lease of %s: %s", blob, exc)
        await asyncio.sleep(max(0.2, leases.ttl_s / 4))


async def _let_go(
    renewing: asyncio.Task[None], then: Callable[[str], None] | None, blob: str
) -> None:
    """Stop renewing (waiting for a renew in flight, so it cannot land after), then record
    how the lease ends; a database that is away loses only that record (the lease lapses)."""
    renewing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await renewing
    if then is None:
        return
    try:
        await asyncio.to_thread(then, blob)
    except StoreError as exc:
        logger.warning("cannot record the end of the lease of %s: %s", blob, exc)


def team_leases(db: Database, settings: Settings) -> BlobLeases | None:
    """The team's blob leases when the database is shared (PostgreSQL); None for a node on
    its own."""
    if db.engine.dialect.name == "sqlite":
        return None
    return BlobLeases(db, settings.node_name, settings.lease_ttl_s)


def wire_mirrors(source: object, report: Callable[[dict[str, str]], None]) -> None:
    """Set a download's mirrored source up: bad copies reported, and a mirror's manifest as
    the metadata when the Hub cannot be asked."""
    if isinstance(source, MirroredSource):
        source.on_bad_copy = lambda bad: report(dataclasses.asdict(bad))
        source.manifest_fallback = True


def metadata_facts(source: object) -> dict[str, object]:
    """Where the resolved files and checksums came from (for ``download.started``)."""
    if isinstance(source, MirroredSource):
        return {"metadata_from": source.metadata_from, "mirrors": [str(m) for m in source.mirrors]}
    return {}


async def complete_on_disk(manager: ModelManager, model_id: str) -> bool:
    """Whether the model's last resolved version is all here and verified (offline mode
    finishes such a model from disk, whatever the mirrors say)."""
    target = await asyncio.to_thread(manager.known_target, model_id)
    if target is None:
        return False
    local = await manager.inspect(target)
    return bool(local.complete)
