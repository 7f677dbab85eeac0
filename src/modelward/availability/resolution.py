"""Asking the source, in the background, for the files of catalog models never resolved here.

A status read never contacts the hub nor writes a record (a GET has no side effects, and a
read of every model must not cost a hub round trip per model never downloaded). What a
status needs from the hub for such a model (its real size, or that the repo is missing) is
asked here instead: once per model when the service starts and when an entry is added, one
model at a time. A failure is remembered, shown in the model's status, and asked again only
after a backoff (a minute, doubling up to an hour), never because someone read a status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from modelward.errors import ModelwardError
from modelward.status import records_write_error
from modelward.transfer import EnhancedModelDownloader

logger = logging.getLogger(__name__)

FIRST_RETRY_S = 60.0
MAX_RETRY_S = 3600.0


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why a model's files could not be resolved, and when to ask again."""

    error: ModelwardError
    attempts: int
    retry_at: float


class RemoteResolution:
    """Resolves never-resolved models in one background task (see the module docstring)."""

    def __init__(
        self,
        downloader: EnhancedModelDownloader,
        *,
        first_retry_s: float = FIRST_RETRY_S,
        max_retry_s: float = MAX_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.downloader = downloader
        self.first_retry_s = first_retry_s
        self.max_retry_s = max_retry_s
        self._clock = clock
        self._failures: dict[str, _Failure] = {}
        self._pending: dict[str, None] = {}  # insertion-ordered set
        self._wakeup: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def error(self, model_id: str) -> ModelwardError | None:
        """Why the model's files could not be resolved (None: resolved, or not tried yet)."""
        failure = self._failures.get(model_id)
        return failure.error if failure else None

    def request(self, model_ids: Iterable[str]) -> None:
        """Resolve these models (those never resolved) in the background, soon; a model
        whose last try failed waits for its backoff. Call on the event loop."""
        for model_id in model_ids:
            self._pending[model_id] = None
        loop = asyncio.get_running_loop()
        if self._wakeup is None or self._idle is None:
            self._wakeup, self._idle = asyncio.Event(), asyncio.Event()
        self._idle.clear()
        self._wakeup.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())

    async def settle(self) -> None:
        """Wait until every model due now was tried (tests)."""
        if self._idle is not None:
            await self._idle.wait()

    async def aclose(self) -> None:
        """Stop the background task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._idle is not None:
            self._idle.set()

    async def _run(self) -> None:
        assert self._wakeup is not None and self._idle is not None
        while True:
            due = self._due()
            for model_id in due:
                await self._resolve_one(model_id)
            if due:
                continue  # more may have been asked for meanwhile
            self._wakeup.clear()
            self._idle.set()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
            # that lands as the event is set, and closing would wait for this loop forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._until_next_retry()):
                    await self._wakeup.wait()

    def _due(self) -> list[str]:
        """The models to try now: asked for and not backing off, or whose backoff ended."""
        now = self._clock()
        due = [m for m in self._pending if m not in self._failures]
        due += [m for m, f in self._failures.items() if f.retry_at <= now]
        for model_id in due:
            self._pending.pop(model_id, None)
        return list(dict.fromkeys(due))

    def _until_next_retry(self) -> float | None:
        if not self._failures:
            return None
        soonest = min(f.retry_at for f in self._failures.values())
        return max(0.0, soonest - self._clock())

    async def _resolve_one(self, model_id: str) -> None:
        manager = self.downloader.manager
        if model_id not in manager.catalog or self.downloader.is_running(model_id):
            self._failures.pop(model_id, None)  # gone, or a download resolves it
            return
        try:
            if await asyncio.to_thread(manager.known_target, model_id) is not None:
                self._failures.pop(model_id, None)
                return
            target = await self.downloader.source(model_id).resolve(manager.spec(model_id))
            await asyncio.to_thread(manager.remember, target)
        except OSError as exc:
            self._failed(model_id, records_write_error(manager.home, exc))
        except ModelwardError as exc:
            logger.info("cannot resolve %s: %s", model_id, exc)
            self._failed(model_id, exc)
        else:
            self._failures.pop(model_id, None)

    def _failed(self, model_id: str, error: ModelwardError) -> None:
        attempts = self._failures[model_id].attempts + 1 if model_id in self._failures else 1
        wait = min(self.max_retry_s, self.first_retry_s * 2 ** (attempts - 1))
        self._failures[model_id] = _Failure(error, attempts, self._clock() + wait)
