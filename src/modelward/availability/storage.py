"""The store's disk: how full it is, what each model takes, what could go, and a warning
(``storage.low``) when free space drops below the threshold (Requirement 3.4).

Models unused for ``unused_after_days`` are offered for removal (Requirement 6.4); a
person decides, nothing is removed from here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from modelward.analytics.cleanup import CleanupCandidate, CleanupResult
from modelward.availability.cleanup import RetentionPolicy
from modelward.availability.manager import ModelAvailabilityManager
from modelward.events import Event, EventType
from modelward.store.space import disk_usage
from modelward.units import format_size

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ModelSpace:
    """What one model takes on disk."""

    model_id: str
    bytes_on_disk: int
    pinned: bool
    state: str


@dataclass(frozen=True, slots=True)
class StorageStatus:
    """The store's disk now, and what a person could do about it."""

    path: str
    total_bytes: int
    free_bytes: int
    used_bytes: int
    used_percent: float
    """How full the disk is: the same figure as the health report's (one reading)."""
    low_space_bytes: int
    low: bool
    models: list[ModelSpace]
    unused: list[CleanupCandidate]
    """Models unused for the configured days, least valuable first."""
    suggestions: CleanupResult
    """A dry-run cleanup that would bring free space back above the threshold."""
    message: str


class StorageWatch:
    """Reads the store's disk and warns once each time free space falls below the line."""

    def __init__(
        self,
        availability: ModelAvailabilityManager,
        *,
        low_space_bytes: int,
        unused_after_days: float,
    ) -> None:
        self.availability = availability
        self.low_space_bytes = low_space_bytes
        self.unused_after_days = unused_after_days
        self._was_low = False
        self._task: asyncio.Task[None] | None = None

    async def status(self) -> StorageStatus:
        """How full the disk is, per-model use, unused models and a cleanup suggestion."""
        cache = self.availability.manager.cache_dir
        disk = await asyncio.to_thread(disk_usage, cache)
        free = disk.free_bytes
        pinned = await asyncio.to_thread(self.availability.pins.pinned)
        models = []
        for spec in self.availability.catalog:
            status = await self.availability.status(spec.id, hash_unknown=False)
            if status.present_bytes:
                models.append(
                    ModelSpace(
                        spec.id,
                        status.present_bytes,
                        spec.id in pinned,
                        status.availability_status.value,
                    )
                )
        low = free < self.low_space_bytes
        unused, suggestions = await self._suggestions(low)
        if low:
            message = (
                f"{format_size(free)} free on the store's disk, below the "
                f"{format_size(self.low_space_bytes)} warning line; {suggestions.message}"
            )
        else:
            message = f"{format_size(free)} free of {format_size(disk.total_bytes)}"
            if not self.availability.cleanup_suggestions:
                message += f"; {suggestions.message}"
        if unused.removed:
            message += f"; unused for {self.unused_after_days:g}+ days: " + ", ".join(
                c.model_id for c in unused.removed
            )
        return StorageStatus(
            str(cache),
            disk.total_bytes,
            free,
            disk.used_bytes,
            disk.used_percent,
            self.low_space_bytes,
            low,
            models,
            unused.removed,
            suggestions,
            message,
        )

    async def _suggestions(self, low: bool) -> tuple[CleanupResult, CleanupResult]:
        """Models unused for the configured days, and a dry-run cleanup (back above the
        line when space is low); empty ones, saying why, while suggestions are off."""
        if not self.availability.cleanup_suggestions:
            none = await self.availability.no_suggestions()
            return none, none
        unused = await self.availability.cleanup_unused_models(
            RetentionPolicy(keep_recent_days=self.unused_after_days)
        )
        if not low:
            return unused, unused
        target = RetentionPolicy(keep_recent_days=0, target_free_bytes=self.low_space_bytes)
        return unused, await self.availability.cleanup_unused_models(target)

    async def check(self) -> StorageStatus:
        """Read the disk and publish ``storage.low`` when it has just crossed the line."""
        status = await self.status()
        if status.low and not self._was_low and self.availability.bus is not None:
            self.availability.bus.publish(
                Event(
                    EventType.STORAGE_LOW,
                    None,
                    {
                        "free_bytes": status.free_bytes,
                        "low_space_bytes": status.low_space_bytes,
                        "message": status.message,
                        "suggestions": [c.model_id for c in status.suggestions.removed],
                    },
                )
            )
        self._was_low = status.low
        return status

    def watch(self, interval_s: float = 60.0) -> None:
        """Check every ``interval_s`` in the background."""
        if self._task is not None:
            return

        async def loop() -> None:
            while True:
                try:
                    await self.check()
                except Exception:
                    logger.exception("storage check failed")
                await asyncio.sleep(interval_s)

        self._task = asyncio.get_running_loop().create_task(loop(), name="storage watch")

    async def aclose(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
