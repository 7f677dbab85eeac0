"""What a job has left to do: the files it fetches, and how much of them is in place."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

from modelward.errors import CatalogError, InsufficientSpaceError
from modelward.sources import Source, Target
from modelward.store.manager import FileState, LocalFile, LocalModel, ModelManager
from modelward.store.space import ensure_space
from modelward.transfer.queue import Job
from modelward.transfer.retry import RetryListener, RetryPolicy, call_with_retry


async def resolve_target(
    manager: ModelManager,
    job: Job,
    source: Source,
    policy: RetryPolicy,
    on_retry: RetryListener,
) -> Target:
    """The files ``job`` fetches: at the commit the model is served at (an update follows
    the revision upstream), refusing a selection that names no file."""
    spec = manager.spec(job.model_id)
    wanted = spec
    served = await asyncio.to_thread(manager.local_commit, job.model_id)
    if served is not None and not job.follow_upstream and spec.source == "hub":
        wanted = spec.model_copy(update={"revision": served})
    target = await call_with_retry(lambda: source.resolve(wanted), policy, on_retry=on_retry)
    if wanted is not spec:
        target = dataclasses.replace(target, revision=spec.revision)
    if not target.files:
        raise CatalogError(
            f"its include/exclude patterns select no file of {spec.repo}@{spec.revision}",
            entry=spec.id,
            field="include",
            hint="Loosen the entry's include/exclude globs (see docs/CATALOG.md).",
        )
    return target


def files_in_place(local: LocalModel) -> list[dict[str, object]]:
    """Each file of ``local`` with what of it is already in place (DOWNLOAD_STARTED)."""
    return [
        {"path": lf.file.path, "size_bytes": lf.file.size_bytes, "done_bytes": bytes_in_place(lf)}
        for lf in local.files
    ]


def bytes_in_place(local: LocalFile) -> int:
    """Bytes of a file already in place when a job starts (a damaged blob counts none)."""
    return local.present_bytes if local.state is not FileState.DAMAGED else 0


def bytes_to_write(local: LocalFile) -> int:
    """Disk bytes a file still needs: a damaged blob is rewritten whole beside itself."""
    if local.state in (FileState.VERIFIED, FileState.UNLINKED):
        return 0
    if local.state is FileState.PARTIAL:
        return local.file.size_bytes - local.present_bytes
    return local.file.size_bytes


SpaceAdvisor = Callable[[str, int], Awaitable[str | None]]
"""Says what could be freed for a model short of ``n`` bytes (None: nothing)."""


async def ensure_room(
    cache_dir: Path, model_id: str, local: LocalModel, advisor: SpaceAdvisor | None
) -> None:
    """Refuse before writing when the disk cannot hold what is left to fetch (saying what
    could be freed, when an advisor is attached)."""
    needed = sum(bytes_to_write(f) for f in local.files)
    try:
        await asyncio.to_thread(ensure_space, cache_dir, needed, model_id)
    except InsufficientSpaceError as short:
        if advisor is not None:
            advice = await advisor(model_id, short.needed_bytes - short.free_bytes)
            if advice:
                short.hint = f"{short.hint} {advice}"
        raise
