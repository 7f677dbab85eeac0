"""Generation requests waiting for a model: kept in the database, in order, until the model
is ready (then released at once), the request expires, or it is cancelled.

A restart keeps them: the queue is read back, requests whose model arrived meanwhile are
released and expired ones are marked so. Per node: a node sharing the database sees, releases
and expires only the requests queued on it (its ``Database.node``). Release is announced on
the event bus (``request.released``) and to in-process waiters (:meth:`RequestQueue.wait`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update

from modelward.db import Database, generation_requests
from modelward.errors import ConfigError, UnknownRequestError
from modelward.events import Event, EventBus, EventType

DEFAULT_TTL_S = 6 * 3600.0


class RequestState(StrEnum):
    """Where a queued request stands."""

    QUEUED = "queued"
    RELEASED = "released"
    """Its model is ready: the app may run it now."""
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class QueuedRequest:
    """One generation request waiting for (or released to) a model."""

    request_id: str
    model_id: str
    payload: dict[str, Any]
    """What the app asked for (prompt, image path, parameters), kept as given."""
    state: RequestState
    created_at: float
    expires_at: float
    position: int | None = None
    """Place among the model's queued requests (1 = next), while queued."""


class RequestQueue:
    """The persisted queue of requests per model (blocking database calls run in threads)."""

    def __init__(self, db: Database, bus: EventBus) -> None:
        self._db = db
        self._bus = bus
        self._waiters: dict[str, list[asyncio.Future[QueuedRequest]]] = {}
        self._tasks: set[asyncio.Task[list[QueuedRequest]]] = set()

    def watch(self) -> None:
        """Release a model's requests the moment a download or repair makes it ready."""
        self._bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.model_id is None:
            return
        completed = (
            event.type == EventType.DOWNLOAD_STATE and event.data.get("status") == "completed"
        )
        repaired = event.type == EventType.REPAIR_FINISHED and event.data.get("success")
        if completed or repaired:
            task = asyncio.get_running_loop().create_task(self.release(event.model_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def put(
        self, model_id: str, payload: dict[str, Any], ttl_s: float = DEFAULT_TTL_S
    ) -> QueuedRequest:
        """Queue a request for ``model_id``, to expire after ``ttl_s`` seconds."""
        if ttl_s <= 0:
            raise ConfigError(
                f"a request must be allowed to wait some time, got {ttl_s} s",
                hint="Give a positive expiry (seconds).",
            )
        now = time.time()
        row = {
            "id": secrets.token_hex(8),
            "node": self._db.node,
            "model_id": model_id,
            "payload": payload,
            "state": RequestState.QUEUED.value,
            "created_at": now,
            "expires_at": now + ttl_s,
            "updated_at": now,
        }
        await asyncio.to_thread(self._insert, row)
        queued = await self.get(str(row["id"]))
        self._publish(EventType.REQUEST_QUEUED, queued)
        return queued

    async def get(self, request_id: str) -> QueuedRequest:
        """One request, with its position when queued (past its expiry: marked expired)."""
        found = await asyncio.to_thread(self._select, request_id)
        if found is None:
            raise UnknownRequestError(f"no request {request_id!r}")
        if found.state is RequestState.QUEUED and found.expires_at <= time.time():
            [found] = await self._expire([found], time.time())
        return found

    async def pending(self, model_id: str | None = None) -> list[QueuedRequest]:
        """Queued requests (of ``model_id``, or all), oldest first; expired ones are marked
        expired first."""
        found = await asyncio.to_thread(self._pending, model_id)
        now = time.time()
        if any(r.expires_at <= now for r in found):
            await self._expire(found, now)
            found = await asyncio.to_thread(self._pending, model_id)
        return found

    async def release(self, model_id: str) -> list[QueuedRequest]:
        """Release every queued request of ``model_id`` (its model is ready), in order."""
        released = []
        for request in await self.pending(model_id):
            done = await self._set_state(request, RequestState.RELEASED)
            if done is not None:
                released.append(done)
                self._publish(EventType.REQUEST_RELEASED, done)
        return released

    async def cancel(self, request_id: str) -> QueuedRequest:
        """Withdraw a queued request."""
        request = await self.get(request_id)
        if request.state is not RequestState.QUEUED:
            return request
        done = await self._set_state(request, RequestState.CANCELLED)
        if done is None:  # released or expired meanwhile: that state stands
            return await self.get(request_id)
        self._publish(EventType.REQUEST_CANCELLED, done)
        return done

    async def expire(self, now: float | None = None) -> list[QueuedRequest]:
        """Mark queued requests past their expiry as expired."""
        now = time.time() if now is None else now
        return await self._expire(await asyncio.to_thread(self._pending, None), now)

    async def _expire(self, queued: list[QueuedRequest], now: float) -> list[QueuedRequest]:
        expired = []
        for request in queued:
            if request.expires_at <= now:
                done = await self._set_state(request, RequestState.EXPIRED)
                if done is not None:
                    expired.append(done)
                    self._publish(EventType.REQUEST_EXPIRED, done)
        return expired

    async def wait(self, request_id: str, timeout_s: float | None = None) -> QueuedRequest:
        """Wait until the request leaves the queue (released, expired or cancelled)."""
        request = await self.get(request_id)
        if request.state is not RequestState.QUEUED:
            return request
        future: asyncio.Future[QueuedRequest] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(request_id, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            waiters = self._waiters.get(request_id, [])
            if future in waiters:
                waiters.remove(future)

    async def _set_state(self, request: QueuedRequest, state: RequestState) -> QueuedRequest | None:
        """Move a queued request to ``state``; None when another caller moved it first."""
        if not await asyncio.to_thread(self._update_state, request.request_id, state):
            return None
        done = dataclasses.replace(request, state=state, position=None)
        for future in self._waiters.pop(request.request_id, []):
            if not future.done():
                future.set_result(done)
        return done

    def _publish(self, type_: str, request: QueuedRequest) -> None:
        self._bus.publish(
            Event(
                type_,
                request.model_id,
                {
                    "request_id": request.request_id,
                    "state": request.state.value,
                    "position": request.position,
                    "created_at": request.created_at,
                    "expires_at": request.expires_at,
                },
            )
        )

    def _insert(self, row: dict[str, Any]) -> None:
        self._db.write(lambda conn: conn.execute(insert(generation_requests).values(**row)))

    def _update_state(self, request_id: str, state: RequestState) -> bool:
        # Only from queued, in one statement: of two callers racing, exactly one wins.
        change = (
            update(generation_requests)
            .where(generation_requests.c.id == request_id)
            .where(self._db.own(generation_requests))
            .where(generation_requests.c.state == RequestState.QUEUED.value)
            .values(state=state.value, updated_at=time.time())
        )
        return bool(self._db.write(lambda conn: conn.execute(change).rowcount))

    def _select(self, request_id: str) -> QueuedRequest | None:
        query = select(generation_requests).where(
            generation_requests.c.id == request_id, self._db.own(generation_requests)
        )
        row = self._db.read(lambda conn: conn.execute(query).first())
        if row is None:
            return None
        request = _request(row._mapping)
        if request.state is RequestState.QUEUED:
            ids = [r.request_id for r in self._pending(request.model_id)]
            position = ids.index(request_id) + 1 if request_id in ids else None
            return dataclasses.replace(request, position=position)
        return request

    def _pending(self, model_id: str | None) -> list[QueuedRequest]:
        query = select(generation_requests).where(
            generation_requests.c.state == RequestState.QUEUED.value,
            self._db.own(generation_requests),
        )
        if model_id is not None:
            query = query.where(generation_requests.c.model_id == model_id)
        query = query.order_by(generation_requests.c.created_at, generation_requests.c.id)
        rows = self._db.read(lambda conn: conn.execute(query).all())
        by_model: dict[str, int] = {}
        out = []
        for row in rows:
            request = _request(row._mapping)
            position = by_model.get(request.model_id, 0) + 1  # counted from 1, as shown
            by_model[request.model_id] = position
            out.append(dataclasses.replace(request, position=position))
        return out


def _request(row: Any) -> QueuedRequest:
    return QueuedRequest(
        request_id=row["id"],
        model_id=row["model_id"],
        payload=dict(row["payload"]),
        state=RequestState(row["state"]),
        created_at=float(row["created_at"]),
        expires_at=float(row["expires_at"]),
    )
