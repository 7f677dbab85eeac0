"""Blocking work in worker threads that a cancelled task still waits for."""

from __future__ import annotations

import asyncio
import contextlib
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
        raise
