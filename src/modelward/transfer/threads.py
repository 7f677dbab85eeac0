"""Blocking work in worker threads that a cancelled task still waits for."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def run_to_completion(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking ``fn`` in a worker thread and wait for it even if we are cancelled.

    Pausing cancels the task that holds a blob's lock; if the lock were released while a
    thread still wrote, renamed or fsynced that blob, another writer could step in.
    """
    future = asyncio.get_running_loop().run_in_executor(None, fn, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        # However often we are cancelled, the thread finishes before we return.
        while not future.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([future])
        if not future.cancelled():
            # Retrieved, so a failure (a full disk, say) that the cancel overtook is not
            # printed as "never retrieved": the caller sees the cancel, whose cause says it.
            future.exception()
        raise


def start_thread(fn: Callable[..., T], *args: Any, name: str) -> asyncio.Future[T]:
    """Run blocking ``fn`` in a thread of its own; its outcome lands in the returned future.

    For work that holds a thread for long (a connection's whole segment), so it never
    waits in, or starves, the shared executor that short blocking calls use.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # handed to the awaiting task, whatever it is
            outcome: tuple[T | None, BaseException | None] = (None, exc)
        else:
            outcome = (result, None)
        # The loop may be gone when an abandoned thread finishes; nobody awaits it then.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
