"""The system health report: each model's condition, an overall score and what to do next.

Built from facts gathered by the monitor (a quick check now, the latest deeper check,
performance against baseline, disk usage, quarantine), never from guesses; every
recommendation names its action by code (:class:`~modelward.actions.Action`) and the model
it concerns: the API turns that into a route, the CLI into a command.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from modelward.actions import Action
from modelward.health.checker import IntegrityResult
from modelward.health.issues import IssueKind, IssueList
from modelward.health.performance import PerformanceHealth, PerformanceStatus
from modelward.store.space import DiskUsage
from modelward.units import format_size


class HealthCondition(StrEnum):
    """How one model stands."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    """Usable but not as it should be: slower or failing more, or changed since verified."""
    CORRUPTED = "corrupted"
    INCOMPLETE = "incomplete"
    """Some files are missing (an unfinished or interrupted download)."""
    ABSENT = "absent"
    """Never downloaded."""


class Severity(StrEnum):
    """How urgent a recommendation is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class HealthRecommendation:
    """One thing to do, said for a person, with the action that does it."""

    severity: Severity
    message: str
    action: Action
    model_id: str | None = None


@dataclass(frozen=True, slots=True)
class ModelHealth:
    """One model's health: its files now, its latest deeper check, its performance."""

    model_id: str
    condition: HealthCondition
    integrity_score: float | None
    """Share of the checked bytes found intact (``checker.integrity_share``); None when
    nothing was on disk to check."""
    issues: IssueList
    last_health_check: datetime | None
    """When the latest check deeper than stat ended."""
    last_check_level: str | None
    check_age_s: float | None
    performance_score: float
    performance_status: PerformanceStatus
    performance_reasons: tuple[str, ...]
    repairing: bool = False
    downloading: bool = False


@dataclass(frozen=True, slots=True)
class SystemHealthReport:
    """The seed's SystemHealthReport, with each model's health behind the counts."""

    overall_health_score: float
    models_healthy: int
    models_degraded: int
    models_corrupted: int
    storage_usage_percent: float
    recommendations: list[HealthRecommendation]
    last_updated: datetime
    models_incomplete: int = 0
    models_absent: int = 0
    models: list[ModelHealth] = field(default_factory=list)
    quarantine_bytes: int = 0
    storage_free_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What the monitor gathered about one model for the report."""

    model_id: str
    now: IntegrityResult | None
    """A quick check made for this report (it names what deeper checks found in files
    unchanged since); None when the model was never downloaded."""
    deep: IntegrityResult | None
    """The latest structural, scrub or full check."""
    performance: PerformanceHealth | None
    repairing: bool = False
    downloading: bool = False


@dataclass(frozen=True, slots=True)
class StorageFacts:
    """Disk usage of the store's file system and what quarantine holds."""

    disk: DiskUsage
    """The reading every view shows (``store.space.disk_usage``)."""
    quarantine_bytes: int


STORAGE_WARN_PERCENT = 90.0
STALE_AFTER_S = 7 * 24 * 3600.0
"""A deeper check older than this is recommended again."""


def model_health(facts: ModelFacts) -> ModelHealth:
    """Judge one model from its facts."""
    perf = facts.performance
    perf_status = perf.status if perf else PerformanceStatus.LEARNING
    perf_score = perf.performance_score if perf else 1.0
    deep = facts.deep
    if facts.now is None:
        issues, score, condition = IssueList(), None, HealthCondition.ABSENT
    else:
        issues = facts.now.issues
        score = facts.now.integrity_score
        condition = _condition(issues, perf_status)
    return ModelHealth(
        model_id=facts.model_id,
        condition=condition,
        integrity_score=score,
        issues=issues,
        last_health_check=datetime.fromtimestamp(deep.checked_at, UTC) if deep else None,
        last_check_level=deep.level.value if deep else None,
        check_age_s=round(time.time() - deep.checked_at, 1) if deep else None,
        performance_score=perf_score,
        performance_status=perf_status,
        performance_reasons=perf.reasons if perf else (),
        repairing=facts.repairing,
        downloading=facts.downloading,
    )


def build_report(
    facts: list[ModelFacts],
    storage: StorageFacts,
    *,
    absent_advice: bool = True,
    stale_after_s: float = STALE_AFTER_S,
) -> SystemHealthReport:
    """The report over every catalog model (``absent_advice``: recommend pulling the ones
    never downloaded)."""
    models = [model_health(f) for f in facts]
    perf = {f.model_id: f.performance for f in facts}
    present = [m for m in models if m.condition is not HealthCondition.ABSENT]
    overall = (
        sum((m.integrity_score or 0.0) * m.performance_score for m in present) / len(present)
        if present
        else 1.0
    )
    percent = storage.disk.used_percent
    recommendations: list[HealthRecommendation] = []
    for m in models:
        if m.condition is HealthCondition.ABSENT:
            if absent_advice and not m.downloading:
                recommendations.append(
                    HealthRecommendation(
                        Severity.INFO,
                        f"{m.model_id}: not downloaded",
                        Action.DOWNLOAD,
                        m.model_id,
                    )
                )
            continue
        recommendations += _model_advice(m, perf.get(m.model_id), stale_after_s)
    recommendations += _storage_advice(percent, storage)
    order = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
    recommendations.sort(key=lambda r: order[r.severity])

    def count(condition: HealthCondition) -> int:
        return sum(1 for m in models if m.condition is condition)

    return SystemHealthReport(
        overall_health_score=round(overall, 4),
        models_healthy=count(HealthCondition.HEALTHY),
        models_degraded=count(HealthCondition.DEGRADED),
        models_corrupted=count(HealthCondition.CORRUPTED),
        storage_usage_percent=percent,
        recommendations=recommendations,
        last_updated=datetime.now(UTC),
        models_incomplete=count(HealthCondition.INCOMPLETE),
        models_absent=count(HealthCondition.ABSENT),
        models=models,
        quarantine_bytes=storage.quarantine_bytes,
        storage_free_bytes=storage.disk.free_bytes,
    )


def _condition(issues: IssueList, perf: PerformanceStatus) -> HealthCondition:
    kinds = {i.kind for i in issues}
    if any(i.category == "corruption" and i.kind is not IssueKind.MODIFIED for i in issues):
        return HealthCondition.CORRUPTED
    if kinds & {IssueKind.MISSING, IssueKind.INCOMPLETE_SHARD_SET}:
        return HealthCondition.INCOMPLETE
    if IssueKind.MODIFIED in kinds or perf is PerformanceStatus.DEGRADED:
        return HealthCondition.DEGRADED
    return HealthCondition.HEALTHY


def _model_advice(
    m: ModelHealth, perf: PerformanceHealth | None, stale_after_s: float
) -> list[HealthRecommendation]:
    """Everything to do about one model on disk, most urgent kinds first."""
    return [
        *_files_advice(m),
        *_modified_advice(m),
        *_stray_advice(m),
        *_performance_advice(m.model_id, perf),
        *_staleness_advice(m, stale_after_s),
    ]


def _files_advice(m: ModelHealth) -> list[HealthRecommendation]:
    """Repair damaged files, or fetch missing ones (unless that is already under way)."""
    mid = m.model_id
    if m.condition is HealthCondition.CORRUPTED and not m.repairing:
        names = ", ".join(sorted({i.path for i in m.issues if i.category == "corruption"}))
        message = f"{mid}: damaged files ({names}); only their damaged blocks need fetching"
        return [HealthRecommendation(Severity.CRITICAL, message, Action.REPAIR, mid)]
    if m.condition is HealthCondition.INCOMPLETE and not m.downloading:
        missing = sum(1 for i in m.issues if i.category == "missing")
        message = f"{mid}: {missing} file(s) missing; the download resumes where it stopped"
        return [HealthRecommendation(Severity.WARNING, message, Action.DOWNLOAD, mid)]
    return []


def _modified_advice(m: ModelHealth) -> list[HealthRecommendation]:
    if not any(i.kind is IssueKind.MODIFIED for i in m.issues):
        return []
    message = f"{m.model_id}: files changed on disk since they were verified"
    return [HealthRecommendation(Severity.WARNING, message, Action.VERIFY_FULL, m.model_id)]


def _stray_advice(m: ModelHealth) -> list[HealthRecommendation]:
    stray = [i for i in m.issues if i.kind is IssueKind.UNEXPECTED_FILE]
    if not stray:
        return []
    message = (
        f"{m.model_id}: {len(stray)} file(s) in the snapshot that the repo does not have "
        f"({', '.join(i.path for i in stray[:3])}); remove them: "
        + "; ".join(i.detail.rpartition("remove ")[2] for i in stray[:3])
    )
    return [HealthRecommendation(Severity.INFO, message, Action.REMOVE_STRAY_FILES, m.model_id)]


def _performance_advice(mid: str, perf: PerformanceHealth | None) -> list[HealthRecommendation]:
    if perf is None or not perf.is_degraded:
        return []
    return [
        HealthRecommendation(Severity.WARNING, f"{mid}: {suggestion}", Action.VERIFY_FULL, mid)
        for suggestion in perf.suggestions
    ]


def _staleness_advice(m: ModelHealth, stale_after_s: float) -> list[HealthRecommendation]:
    if m.check_age_s is not None and m.check_age_s <= stale_after_s:
        return []
    when = "never" if m.check_age_s is None else f"{m.check_age_s / 86400:.0f} days ago"
    message = f"{m.model_id}: last checked {when}"
    return [HealthRecommendation(Severity.INFO, message, Action.VERIFY, m.model_id)]


def _storage_advice(percent: float, storage: StorageFacts) -> list[HealthRecommendation]:
    out: list[HealthRecommendation] = []
    held = format_size(storage.quarantine_bytes)
    if percent >= STORAGE_WARN_PERCENT:
        if storage.quarantine_bytes:
            out.append(
                HealthRecommendation(
                    Severity.WARNING,
                    f"the store's disk is {percent:.1f}% full; quarantine holds {held} "
                    "of damaged copies that repairs have replaced",
                    Action.PURGE_QUARANTINE,
                )
            )
        else:
            out.append(
                HealthRecommendation(
                    Severity.WARNING,
                    f"the store's disk is {percent:.1f}% full "
                    f"({format_size(storage.disk.free_bytes)} free): the next download may "
                    "not fit",
                    Action.CLEANUP,
                )
            )
    elif storage.quarantine_bytes:
        out.append(
            HealthRecommendation(
                Severity.INFO,
                f"quarantine holds {held}; purge it once the repaired models work",
                Action.LIST_QUARANTINE,
            )
        )
    return out
