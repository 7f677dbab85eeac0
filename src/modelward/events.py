"""One in-process event bus: every state change and progress step is published here.

The CLI's progress bars, the service's live stream and (later) metrics and analytics all
subscribe to the same bus, so no display concern leaks into the download code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)


class EventType(StrEnum):
    """Every kind of event published on the bus."""

    DOWNLOAD_QUEUED = "download.queued"
    DOWNLOAD_STARTED = "download.started"
    DOWNLOAD_RETRY = "download.retry"
    DOWNLOAD_STATE = "download.state"
    DOWNLOAD_WAITING = "download.waiting"
    """A file waits for another node of the team to publish it (data: path, note; a null
    note: the wait is over)."""
    MIRROR_BAD_COPY = "mirror.bad_copy"
    """A mirror object was refused (data: mirror, path, blob_name, reason)."""
    MIRROR_PUBLISHED = "mirror.published"
    """Auto-publish pushed a pulled model to its mirror (data: mirror, commit, bytes_sent)."""
    MIRROR_PUBLISH_FAILED = "mirror.publish_failed"
    """Auto-publish could not push a pulled model (data: mirror, code, message, hint)."""
    FILE_BYTES = "file.bytes"
    FILE_VERIFIED = "file.verified"
    DOWNLOAD_PRIORITY = "download.priority"
    BANDWIDTH_CHANGED = "bandwidth.changed"
    DOWNLOAD_CANCELLED = "download.cancelled"
    QUEUE_CHANGED = "queue.changed"
    HEALTH_CHECKED = "health.checked"
    HEALTH_PERFORMANCE = "health.performance"
    HEALTH_PROPOSED = "health.proposed"
    """A check found something to do and automation is "ask": the data says what and how."""
    REPAIR_STARTED = "repair.started"
    REPAIR_FINISHED = "repair.finished"
    REQUEST_QUEUED = "request.queued"
    REQUEST_RELEASED = "request.released"
    """The request's model is ready: the app may run it now."""
    REQUEST_EXPIRED = "request.expired"
    REQUEST_CANCELLED = "request.cancelled"
    MODEL_STATE = "model.state"
    """A model's derived state changed (data: state, previous, is_available, local_path)."""
    MODEL_REMOVED = "model.removed"
    UPDATE_AVAILABLE = "update.available"
    UPDATE_PROPOSED = "update.proposed"
    UPDATE_STARTED = "update.started"
    UPDATE_APPLIED = "update.applied"
    UPDATE_ROLLED_BACK = "update.rolled_back"
    UPDATE_SETTLED = "update.settled"
    """The previous version was removed after the new one proved itself."""
    STORAGE_LOW = "storage.low"
    MODEL_PINNED = "model.pinned"
    RECOVERY = "recovery"
    """The error recovery took an action (data: category, action, success, message)."""
    FALLBACK_DECIDED = "fallback.decided"
    """A job asked for a model and got one, or a strategy (data: requested_model,
    used_model, strategy, is_mock)."""
    GENERATION_FINISHED = "generation.finished"
    """A job's lease ended (data as fallback.decided, plus outcome: ok, error, mock,
    not-run or cancelled, and duration_s)."""


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, with the model it concerns and plain JSON-able data."""

    type: str
    model_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


Subscriber = Callable[[Event], None]


class EventBus:
    """Delivers each published event to every subscriber, synchronously and in order."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    @property
    def subscriber_count(self) -> int:
        """How many subscribers are attached (live streams among them)."""
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every subscriber; a failing subscriber never stops the others."""
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                logger.exception("event subscriber failed on %s", event.type)

    async def stream(
        self, *, types: frozenset[str] | None = None, max_queued: int = 10_000
    ) -> AsyncIterator[Event]:
        """Yield events as they are published, until the consumer stops iterating."""
        queue: asyncio.Queue[Event] = asyncio.Queue(max_queued)

        def enqueue(event: Event) -> None:
            if types is None or event.type in types:
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    # A consumer that cannot keep up loses old progress, never our transfer.
                    queue.get_nowait()
                    queue.put_nowait(event)

        unsubscribe = self.subscribe(enqueue)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()
