"""What the health monitor's seed calls answer: a repair's result and a corruption report."""

from __future__ import annotations

from dataclasses import dataclass

from modelward.health.issues import IntegrityIssue, IssueKind
from modelward.health.repair import RepairPlan


@dataclass(frozen=True, slots=True)
class RepairResult:
    """The seed's RepairResult: what ``verify_and_repair_model`` found and did."""

    model_id: str
    success: bool
    issues_found: tuple[IntegrityIssue, ...]
    plans: tuple[RepairPlan, ...]
    """Per damaged file: the byte ranges fetched again and its quarantine entry."""
    bytes_fetched: int
    error_message: str | None = None
    error_hint: str | None = None


@dataclass(frozen=True, slots=True)
class CorruptedFile:
    """One damaged file and what repairing it would fetch."""

    path: str
    kind: IssueKind
    detail: str
    damaged_ranges: tuple[tuple[int, int], ...]
    """The byte ranges a repair fetches again (the whole file without a block table)."""

    @property
    def repair_bytes(self) -> int:
        """Bytes a repair asks the source for."""
        return sum(end - start for start, end in self.damaged_ranges)


@dataclass(frozen=True, slots=True)
class CorruptionReport:
    """The seed's CorruptionReport: which files are damaged and what repair would cost."""

    model_id: str
    corruption_detected: bool
    files: tuple[CorruptedFile, ...]
    checked_at: float

    @property
    def repair_bytes(self) -> int:
        """Bytes a repair of every damaged file asks the source for."""
        return sum(f.repair_bytes for f in self.files)
