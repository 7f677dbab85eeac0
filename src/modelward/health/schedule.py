"""When scheduled health checks run: every interval, moved to a quiet hour once usage is known.

Deeper checks read the disk hard, and a generation running at the same time would slow
down. Once enough generations are recorded to know when the machine is busy, a check that
falls due waits (at most a day) for the start of the hour with the fewest generations.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

HOUR_S = 3600.0
MIN_INTERVAL_TO_SHIFT_S = 6 * HOUR_S
"""Checks run more often than this are not moved: the interval matters more."""
DAYS_TO_KNOW_USAGE = 3
"""Usage counts as known after generations on this many distinct days."""


@dataclass(frozen=True, slots=True)
class UsagePattern:
    """Generations per local hour of the day, and on how many days they were seen."""

    hourly: tuple[int, ...]
    days: int

    @property
    def known(self) -> bool:
        """True when there is enough history to tell quiet hours from busy ones."""
        return self.days >= DAYS_TO_KNOW_USAGE and sum(self.hourly) > 0

    def quiet_hours(self) -> frozenset[int]:
        """The hours of the day with the fewest generations."""
        least = min(self.hourly)
        return frozenset(h for h, n in enumerate(self.hourly) if n == least)


def next_check_at(
    last_run: float | None, interval_s: float, usage: UsagePattern | None, now: float
) -> float:
    """When the next scheduled check should start (seconds since the epoch)."""
    due = now if last_run is None else max(now, last_run + interval_s)
    if usage is None or not usage.known or interval_s < MIN_INTERVAL_TO_SHIFT_S:
        return due
    quiet = usage.quiet_hours()
    if time.localtime(due).tm_hour in quiet:
        return due
    # The first quiet hour start after ``due``; within a day there always is one.
    start = math.floor(due / HOUR_S) * HOUR_S
    for step in range(1, 25):
        candidate = start + step * HOUR_S
        if time.localtime(candidate).tm_hour in quiet:
            return candidate
    return due


class HealthScheduler:
    """Runs the check at start, then the scheduled checks, in one background task."""

    def __init__(
        self,
        *,
        at_start: Callable[[], Awaitable[object]] | None,
        scheduled: Callable[[], Awaitable[object]],
        interval_s: float,
        last_run: Callable[[], Awaitable[float | None]],
        usage: Callable[[], Awaitable[UsagePattern | None]],
    ) -> None:
        self._at_start = at_start
        self._scheduled = scheduled
        self._interval_s = interval_s
        self._last_run = last_run
        self._usage = usage
        self._task: asyncio.Task[None] | None = None
        self.next_run_at: float | None = None
        """When the next scheduled check starts (None: none is planned)."""

    @property
    def running(self) -> bool:
        """True while the background task lives."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the background task (no-op when it already runs)."""
        if not self.running:
            self._task = asyncio.create_task(self._loop(), name="health checks")

    async def reschedule(self, interval_s: float) -> None:
        """Use a new interval from now on (the wait under way is recomputed; 0 stops the
        checks, and a positive interval after 0 starts them again)."""
        self._interval_s = interval_s
        self._at_start = None  # the start-up check ran already
        await self.stop()
        if interval_s > 0:
            self.start()

    async def stop(self) -> None:
        """Stop the background task, interrupting a check in progress."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.next_run_at = None  # nothing is planned any more (not a time in the past)

    async def _loop(self) -> None:
        if self._at_start is not None:
            await self._guarded(self._at_start)
        if self._interval_s <= 0:
            self.next_run_at = None
            return
        ran_at: float | None = None
        while True:
            # The database knows runs of earlier processes; ``ran_at`` covers a round that
            # had nothing to record (no model downloaded yet).
            last = await self._last_run()
            if ran_at is not None:
                last = max(last or 0.0, ran_at)
            self.next_run_at = next_check_at(
                last, self._interval_s, await self._usage(), time.time()
            )
            await asyncio.sleep(max(0.0, self.next_run_at - time.time()))
            await self._guarded(self._scheduled)
            ran_at = time.time()

    async def _guarded(self, run: Callable[[], Awaitable[object]]) -> None:
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception:
            # A failed round is logged and the schedule goes on; the next round retries.
            logger.exception("scheduled health check failed")
