"""Auto-publish: a service with ``MODELWARD_MIRROR_PUBLISH=1`` pushes each model it pulled
to the model's first team mirror, in the background.

A completed download that fetched bytes is the trigger (one that found everything in place
has nothing new to share). The upload runs in a worker thread (boto3 blocks) and one
model at a time per model; its outcome is an event (``mirror.published`` with the bytes
sent, or ``mirror.publish_failed`` with the error) and an audit record. A failure never
touches the download: the model stays verified here and the next pull publishes again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from modelward.catalog import ModelSpec
from modelward.errors import ModelwardError
from modelward.events import Event, EventBus, EventType
from modelward.mirror.publish import PublishResult, describe, publish_model
from modelward.ops import AuditLog
from modelward.ops.selfstarted import AUTOMATION, record_self_started
from modelward.settings import Settings
from modelward.sources.bucket import MirrorBucket
from modelward.store import ModelManager

logger = logging.getLogger(__name__)

ACTION = "mirror.push"
"""The audit action, the same as the CLI's ``mirror push``."""


def first_mirror(spec: ModelSpec, settings: Settings) -> str | None:
    """Where a model is published by default: its catalog entry's first mirror, else the
    first of MODELWARD_MIRRORS (the order pulls try them in)."""
    return next(iter((*spec.mirrors, *settings.mirrors)), None)


class AutoPublisher:
    """Publishes what this service pulled to the first mirror (see the module)."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        manager: ModelManager,
        bus: EventBus,
        audit: AuditLog | None = None,
        *,
        team: bool = False,
    ) -> None:
        self._settings = settings
        self.team = team
        """A node of a team (shared database and mirrors) publishes what it completes, so
        the mirror has the manifest that lets any node pull with the Hub down."""
        self.manager = manager
        self.bus = bus
        self.audit = audit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._cancel = threading.Event()
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        """Listen for completed downloads (call from the service's event loop)."""
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self.bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.type != EventType.DOWNLOAD_STATE or event.model_id is None:
            return
        if event.data.get("status") != "completed" or not event.data.get("bytes_fetched"):
            return
        if self._loop is not None and (self.team or self._settings().mirror_publish):
            # The bus may call from a worker thread; the task belongs to the loop.
            self._loop.call_soon_threadsafe(self._spawn, event.model_id)

    def _spawn(self, model_id: str) -> None:
        if model_id in self._tasks:
            self._again.add(model_id)  # published again once the running one ends
            return
        self._tasks[model_id] = asyncio.get_running_loop().create_task(self._run(model_id))

    async def _run(self, model_id: str) -> None:
        try:
            while True:
                self._again.discard(model_id)
                await self.publish(model_id)
                if model_id not in self._again:
                    return
        finally:
            self._tasks.pop(model_id, None)

    async def publish(self, model_id: str) -> PublishResult | None:
        """Publish ``model_id`` to its first mirror now; report the outcome (None: it failed
        or no mirror is set)."""
        settings = self._settings()
        address = first_mirror(self.manager.spec(model_id), settings)
        if address is None:
            logger.warning("MODELWARD_MIRROR_PUBLISH is on but no mirror is set for %s", model_id)
            return None
        try:
            bucket = MirrorBucket.at(address, settings.s3_endpoint_url)
            result = await asyncio.to_thread(
                publish_model,
                bucket,
                self.manager,
                model_id,
                publisher=settings.node_name,
                cancel=self._cancel,
            )
        except ModelwardError as exc:
            await self._failed(model_id, address, exc)
            return None
        except Exception as exc:  # never let a publish take the service's loop down
            logger.exception("publishing %s to %s failed", model_id, address)
            await self._failed(model_id, address, ModelwardError(str(exc)))
            return None
        logger.info("published %s", describe(result))
        self.bus.publish(Event(EventType.MIRROR_PUBLISHED, model_id, _result_data(result)))
        params = {"mirror": address, "bytes_sent": result.bytes_sent}
        await record_self_started(self.audit, AUTOMATION, ACTION, model_id, params=params)
        return result

    async def _failed(self, model_id: str, address: str, exc: ModelwardError) -> None:
        logger.warning("publishing %s to %s failed: %s", model_id, address, exc.message)
        data = {"mirror": address, "code": exc.code, "message": exc.message, "hint": exc.hint}
        self.bus.publish(Event(EventType.MIRROR_PUBLISH_FAILED, model_id, data))
        await record_self_started(
            self.audit, AUTOMATION, ACTION, model_id, error=exc, params={"mirror": address}
        )

    async def aclose(self) -> None:
        """Stop listening; a running publish stops before its next blob."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._cancel.set()
        for task in list(self._tasks.values()):
            task.cancel()


def _result_data(result: PublishResult) -> dict[str, object]:
    return {
        "mirror": result.mirror,
        "repo_id": result.repo_id,
        "commit": result.commit,
        "files": result.files,
        "blobs_uploaded": result.blobs_uploaded,
        "bytes_sent": result.bytes_sent,
        "bytes_skipped": result.bytes_skipped,
    }
