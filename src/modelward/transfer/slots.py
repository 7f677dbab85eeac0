"""Connection slots: a global limit, handed out by priority, then queue order.

A segment holds a slot while it transfers and gives it back when done, so connections
move to higher-priority work at segment boundaries without cutting running segments.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

RankFn = Callable[[], tuple[int, int]]
"""Returns (priority rank, queue position) of the waiter now; lower goes first."""


class ConnectionSlots:
    """At most ``limit`` connections at once, granted to the best-ranked waiter first."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._in_use = 0
        self._waiters: list[tuple[tuple[int, int], int, asyncio.Future[None], RankFn]] = []
        self._seq = itertools.count()

    @property
    def limit(self) -> int:
        """The connection limit."""
        return self._limit

    @asynccontextmanager
    async def slot(self, rank: RankFn) -> AsyncIterator[None]:
        """Hold one connection slot for the duration of the block."""
        if self._in_use < self._limit and not self._waiters:
            self._in_use += 1
        else:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiters, (rank(), next(self._seq), future, rank))
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._release()  # granted just as we were cancelled: give it back
                else:
                    self._waiters = [w for w in self._waiters if w[2] is not future]
                    heapq.heapify(self._waiters)
                raise
        try:
            yield
        finally:
            self._release()

    def reorder(self) -> None:
        """Re-rank waiters (after a priority or queue-order change)."""
        self._waiters = [(rank(), seq, fut, rank) for _, seq, fut, rank in self._waiters]
        heapq.heapify(self._waiters)

    def _release(self) -> None:
        self._in_use -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._in_use < self._limit:
            _, _, future, _ = heapq.heappop(self._waiters)
            if not future.done():
                self._in_use += 1
                future.set_result(None)
