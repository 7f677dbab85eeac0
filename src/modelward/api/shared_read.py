"""Reads that concurrent requests share: the status list is derived once for all the
requests waiting for it, and its JSON written once.

Twenty dashboards asking for ``/models/status`` at once need one answer, not twenty: a
request joins the derivation that has not started yet, or starts one that begins when the
running one ends. So every answer comes from reads that began after its request arrived
(never an older answer from a cache), and a burst of N requests costs at most two
derivations however large N is.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from modelward.api.schemas import ModelStatusesPublic, ModelStatusPublic
from modelward.runtime import Runtime

T = TypeVar("T")


class SharedRead(Generic[T]):
    """``compute()`` run once for the callers that arrive before it starts."""

    def __init__(self, compute: Callable[[], Awaitable[T]]) -> None:
        self._compute = compute
        self._waiting: asyncio.Future[T] | None = None
        """The next run, not started yet: new callers join it."""
        self._running: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self) -> T:
        """The result of a run that starts after this call."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (the service started again)
            self._loop, self._waiting, self._running = loop, None, None
        if self._waiting is None:
            self._waiting = loop.create_future()
            # Read even when every caller has gone (cancelled): no "never retrieved" log.
            self._waiting.add_done_callback(lambda f: f.cancelled() or f.exception())
            self._running = asyncio.create_task(self._run(self._waiting, self._running))
        waiting = self._waiting
        return await asyncio.shield(waiting)

    async def _run(self, result: asyncio.Future[T], previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        self._waiting = None  # from here on, new callers need a later run
        try:
            value = await self._compute()
        except Exception as exc:  # every caller of this run gets the failure
            result.set_exception(exc)
            return
        except BaseException:
            result.cancel()
            raise
        result.set_result(value)


_STATUS_LISTS: weakref.WeakKeyDictionary[Runtime, SharedRead[bytes]] = weakref.WeakKeyDictionary()


def status_list_json(runtime: Runtime) -> Awaitable[bytes]:
    """``/models/status``'s body: every catalog model's status, shared by the requests
    waiting for it."""
    shared = _STATUS_LISTS.get(runtime)
    if shared is None:
        held = weakref.ref(runtime)  # the entry must not keep its key alive
        shared = _STATUS_LISTS[runtime] = SharedRead(lambda: _status_list(held))
    return shared.get()


async def _status_list(held: weakref.ref[Runtime]) -> bytes:
    runtime = held()
    if runtime is None:  # pragma: no cover (a request outlived its service)
        raise RuntimeError("the service has stopped")
    # Never asks the hub nor writes records (a read); see availability/resolution.py.
    statuses = await runtime.availability.statuses()
    data = [ModelStatusPublic.model_validate(s, from_attributes=True) for s in statuses]
    return ModelStatusesPublic(data=data, count=len(data)).model_dump_json().encode()
