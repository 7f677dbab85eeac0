"""The live event stream: bus events as Server-Sent Events, progress coalesced per model.

State changes (queued, started, retry, file verified, paused, completed, ...) pass through
as they happen. ``file.bytes`` events, which arrive up to about a thousand a second at
full speed, never reach the client: they mark their model as changed, and a changed model
gets one ``download.progress`` event (the model's ``DownloadProgress``) at most every
``progress_interval_s``. Any other event of a model marks it changed too, so the last
progress event of a download always shows how it ended. A comment line every
``keepalive_s`` keeps proxies from closing an idle stream.

Frames look like::

    event: download.state
    data: {"type": "download.state", "model_id": "ti2v-5b", "at": 1700000000.0, "data": {...}}

"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from modelward.api.actions import with_route
from modelward.api.schemas import DownloadProgressPublic
from modelward.errors import ModelwardError
from modelward.events import Event, EventBus, EventType
from modelward.transfer import DownloadProgress

logger = logging.getLogger(__name__)

PROGRESS_EVENT = "download.progress"
CONNECTED_FRAME = ": connected\n\n"
KEEPALIVE_FRAME = ": keep-alive\n\n"
MAX_QUEUED_EVENTS = 10_000

ProgressFn = Callable[[str], Awaitable[DownloadProgress]]


@dataclass(frozen=True, slots=True)
class StreamTiming:
    """How often the stream may send each model's progress, and when it sends a keep-alive."""

    progress_interval_s: float = 0.25
    keepalive_s: float = 15.0


class ProgressCoalescer:
    """Decides when each changed model's progress is due: at most once per interval."""

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._changed: set[str] = set()
        self._sent_at: dict[str, float] = {}

    def mark(self, model_id: str) -> None:
        """The model's progress changed."""
        self._changed.add(model_id)

    def due(self, now: float) -> list[str]:
        """Changed models whose interval has passed; they count as sent at ``now``."""
        ready = sorted(m for m in self._changed if self._wait_s(m, now) <= 0)
        for model_id in ready:
            self._changed.discard(model_id)
            self._sent_at[model_id] = now
        return ready

    def wait_s(self, now: float) -> float | None:
        """Seconds until the next model is due, or None when nothing changed."""
        if not self._changed:
            return None
        return max(0.0, min(self._wait_s(m, now) for m in self._changed))

    def _wait_s(self, model_id: str, now: float) -> float:
        return self._sent_at.get(model_id, -math.inf) + self._interval_s - now


class _Inbox:
    """Bus subscriber: a queue of events that holds at most one ``file.bytes`` per model."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue(MAX_QUEUED_EVENTS)
        self._bytes_pending: set[str] = set()

    def __call__(self, event: Event) -> None:
        if event.type == EventType.FILE_BYTES:
            if event.model_id is None or event.model_id in self._bytes_pending:
                return  # the pending one already says "this model moved"
            self._bytes_pending.add(event.model_id)
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            # A client that stopped reading loses its oldest events, never our transfers.
            logger.warning("event stream client is not reading; dropping old events")
            dropped = self._queue.get_nowait()
            if dropped.type == EventType.FILE_BYTES:
                self._bytes_pending.discard(dropped.model_id or "")
            self._queue.put_nowait(event)

    async def get(self, timeout_s: float) -> Event | None:
        """The next event, or None after ``timeout_s``."""
        try:
            async with asyncio.timeout(max(timeout_s, 0.0)):
                event = await self._queue.get()
        except TimeoutError:
            return None
        if event.type == EventType.FILE_BYTES:
            self._bytes_pending.discard(event.model_id or "")
        return event


async def event_frames(
    bus: EventBus, progress_of: ProgressFn, timing: StreamTiming | None = None
) -> AsyncGenerator[str, None]:
    """SSE frames for every event published on ``bus``, until the consumer stops."""
    timing = timing or StreamTiming()
    inbox = _Inbox()
    unsubscribe = bus.subscribe(inbox)
    try:
        yield CONNECTED_FRAME
        coalescer = ProgressCoalescer(timing.progress_interval_s)
        last_write = time.monotonic()
        while True:
            for model_id in coalescer.due(time.monotonic()):
                frame = await _progress_frame(progress_of, model_id)
                if frame:
                    yield frame
                    last_write = time.monotonic()
            now = time.monotonic()
            timeout_s = timing.keepalive_s - (now - last_write)
            progress_wait_s = coalescer.wait_s(now)
            if progress_wait_s is not None:
                timeout_s = min(timeout_s, progress_wait_s)
            event = await inbox.get(timeout_s)
            if event is None:
                if time.monotonic() - last_write >= timing.keepalive_s:
                    yield KEEPALIVE_FRAME
                    last_write = time.monotonic()
                continue
            if event.model_id is not None:
                coalescer.mark(event.model_id)
            if event.type != EventType.FILE_BYTES:
                yield format_frame(event.type, event.model_id, event.data, event.at)
                last_write = time.monotonic()
    finally:
        unsubscribe()


def format_frame(type_: str, model_id: str | None, data: dict[str, Any], at: float) -> str:
    """One SSE frame; the JSON is on one line, so it needs one ``data:`` field."""
    # Proposals carry an action code; a client of this service wants its route.
    payload = {"type": type_, "model_id": model_id, "at": at, "data": with_route(data, model_id)}
    return f"event: {type_}\ndata: {json.dumps(payload, default=str)}\n\n"


async def _progress_frame(progress_of: ProgressFn, model_id: str) -> str | None:
    try:
        progress = await progress_of(model_id)
    except ModelwardError as error:
        logger.info("no progress for %s on the event stream: %s", model_id, error)
        return None
    except Exception:  # a bug in one lookup must not end every client's stream
        logger.exception("progress of %s failed on the event stream", model_id)
        return None
    public = DownloadProgressPublic.model_validate(dataclasses.asdict(progress))
    return format_frame(PROGRESS_EVENT, model_id, public.model_dump(mode="json"), time.time())
