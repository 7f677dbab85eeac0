"""Cleanup as plan-then-execute: which local models could go, and then removing them.

:func:`plan_cleanup` is pure: given each model's facts (its status, the bytes only it
holds, what holds it) and a :class:`RetentionPolicy`, it ranks the candidates (least
recently used, least used, largest first) and stops once the target free space is reached.
Nothing is removed until :meth:`CleanupPlan.execute`, which asks the remover for each
model again (the plan may be stale by then) and keeps whatever something holds now, as
huggingface_hub's ``delete_revisions(...).execute()`` does.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from modelward.analytics.cleanup import CleanupCandidate, CleanupResult
from modelward.availability.advice import ON_THE_WAY
from modelward.errors import HeldError
from modelward.status import DetailedModelStatus
from modelward.units import format_size

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """The seed's RetentionPolicy: which local models cleanup may remove."""

    keep_recent_days: float = 30.0
    """A model used within this many days stays."""
    target_free_bytes: int | None = None
    """Stop once this much is free on the store's disk (None: remove every candidate)."""
    keep: frozenset[str] = frozenset()
    """Models never to remove."""
    dry_run: bool = True


@dataclass(frozen=True, slots=True)
class CleanupFacts:
    """What a plan needs to know of one model with files on disk."""

    status: DetailedModelStatus
    removable_bytes: int
    """Bytes its removal frees (what other models share stays)."""
    arrived: float | None
    """When its snapshot appeared (epoch seconds), for models not used yet."""
    held: str | None = None
    """Why nothing may remove it now (pinned, in use, downloading...), else None."""


Remove = Callable[[str], Awaitable[int]]
"""Removes one model (refusing with :class:`HeldError` what is held); returns bytes freed."""
MeasureFree = Callable[[], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class CleanupPlan:
    """Models to remove, least valuable first, and those kept with why."""

    remove: list[CleanupCandidate]
    kept: list[CleanupCandidate]
    free_bytes_before: int
    remover: Remove = field(repr=False, compare=False)
    measure_free: MeasureFree = field(repr=False, compare=False)

    @property
    def planned_bytes(self) -> int:
        """Bytes the removals would free."""
        return sum(c.size_bytes for c in self.remove)

    def as_result(self) -> CleanupResult:
        """The plan as a dry-run result (nothing removed)."""
        return CleanupResult(
            dry_run=True,
            removed=list(self.remove),
            kept=list(self.kept),
            freed_bytes=self.planned_bytes,
            free_bytes_before=self.free_bytes_before,
            free_bytes_after=self.free_bytes_before + self.planned_bytes,
            message=_message(self.remove, self.planned_bytes, "would free"),
        )

    async def execute(self) -> CleanupResult:
        """Remove the planned models; one held by now is kept, with why."""
        removed: list[CleanupCandidate] = []
        kept = list(self.kept)
        freed = 0
        for entry in self.remove:
            try:
                freed += await self.remover(entry.model_id)
            except HeldError as held:
                kept.append(with_reason(entry, held.reason))
                continue
            removed.append(entry)
        return CleanupResult(
            dry_run=False,
            removed=removed,
            kept=kept,
            freed_bytes=freed,
            free_bytes_before=self.free_bytes_before,
            free_bytes_after=await self.measure_free(),
            message=_message(removed, freed, "freed"),
        )


def plan_cleanup(
    facts: Sequence[CleanupFacts],
    policy: RetentionPolicy,
    *,
    free_bytes: int,
    remover: Remove,
    measure_free: MeasureFree,
    now: float | None = None,
) -> CleanupPlan:
    """Which models ``policy`` lets go, least recently used first, until the target free
    space is reached; every other model with files is kept with its reason."""
    now = time.time() if now is None else now
    candidates: list[tuple[tuple[float, float, int, str], CleanupCandidate]] = []
    kept: list[CleanupCandidate] = []
    for fact in facts:
        status = fact.status
        why_kept = fact.held or _kept_because(status, policy, now, fact.arrived)
        used = status.last_used
        entry = CleanupCandidate(
            status.model_id,
            fact.removable_bytes,
            used,
            status.usage_frequency,
            why_kept or _removal_reason(used, now),
        )
        if why_kept:
            kept.append(entry)
            continue
        rank = (used.timestamp() if used else 0.0, status.usage_frequency, -entry.size_bytes)
        candidates.append(((*rank, entry.model_id), entry))
    chosen: list[CleanupCandidate] = []
    projected = free_bytes
    for _rank, entry in sorted(candidates, key=lambda ranked: ranked[0]):
        if policy.target_free_bytes is not None and projected >= policy.target_free_bytes:
            kept.append(with_reason(entry, "the target free space is reached without it"))
            continue
        chosen.append(entry)
        projected += entry.size_bytes
    return CleanupPlan(chosen, kept, free_bytes, remover, measure_free)


def with_reason(entry: CleanupCandidate, reason: str) -> CleanupCandidate:
    """``entry`` with another reason."""
    return CleanupCandidate(
        entry.model_id, entry.size_bytes, entry.last_used, entry.uses_per_day, reason
    )


def arrived_at(path: str | None) -> float | None:
    """When a snapshot folder appeared (its mtime), or None (blocking)."""
    if path is None:
        return None
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return None


def _message(entries: list[CleanupCandidate], size: int, verb: str) -> str:
    if not entries:
        return "nothing to remove under this policy"
    return f"{len(entries)} model(s), {verb} {format_size(size)}"


def _kept_because(
    status: DetailedModelStatus, policy: RetentionPolicy, now: float, arrived: float | None
) -> str | None:
    state = status.availability_status
    if status.model_id in policy.keep:
        return "kept by the policy"
    if state in ON_THE_WAY:
        return f"{state.value} now"
    if not status.is_available:
        return f"{state.value}: a partial download (cancelling it frees the space)"
    keep_s = policy.keep_recent_days * DAY_S
    if status.last_used is None and arrived is not None and now - arrived < keep_s:
        return f"arrived {(now - arrived) / DAY_S:.1f} days ago and not used yet"
    used = status.last_used
    if used is not None and now - used.timestamp() < keep_s:
        days = (now - used.timestamp()) / DAY_S
        return f"used {days:.1f} days ago (keep-recent is {policy.keep_recent_days:g} days)"
    return None


def _removal_reason(used: datetime | None, now: float) -> str:
    if used is None:
        return "never used by a job"
    return f"last used {used:%Y-%m-%d} ({(now - used.timestamp()) / DAY_S:.1f} days ago)"
