"""What a cleanup would remove (or keeps), and why: the seed's CleanupRecommendations.

Only data here; the plan itself is made where the store's facts are known
(``availability/cleanup.py``, plan then execute), and analytics hands a dry run of it out
as its recommendation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StorageConstraints:
    """The seed's StorageConstraints: how much room is wanted and what must stay."""

    target_free_bytes: int | None = None
    """Free space wanted on the store's disk (None: every unused model is a candidate)."""
    keep_recent_days: float = 30.0
    keep: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CleanupCandidate:
    """One model cleanup would remove (or keeps), and why."""

    model_id: str
    size_bytes: int
    last_used: datetime | None
    uses_per_day: float
    reason: str


@dataclass(frozen=True, slots=True)
class CleanupResult:
    """The seed's CleanupResult: what was (or, in a dry run, would be) removed."""

    dry_run: bool
    removed: list[CleanupCandidate]
    """Least valuable first."""
    kept: list[CleanupCandidate]
    freed_bytes: int
    free_bytes_before: int
    free_bytes_after: int
    """Free space afterwards (in a dry run: what it would be)."""
    message: str


CleanupRecommendations = CleanupResult
"""The seed's name for a dry-run cleanup plan."""
