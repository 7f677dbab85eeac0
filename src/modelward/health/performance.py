"""Performance health: a model's recent generations against its own baseline.

Generation time depends on the job (resolution, frames, steps), so each recent generation is
compared with the baseline of the same workload where one exists; a model is degraded when
its recent generations are slower beyond a threshold, or fail (or come out bad) more often.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select

from modelward.db import Database, generations


@dataclass(frozen=True, slots=True)
class GenerationMetrics:
    """The seed's GenerationMetrics: what one generation job took and how it went."""

    generation_time_s: float
    success: bool = True
    quality_issue: bool = False
    """The app judged the output bad (black frames, NaNs, artefacts) although the job ran."""
    error: str | None = None
    width: int | None = None
    height: int | None = None
    num_frames: int | None = None
    steps: int | None = None
    at: float = field(default_factory=time.time)

    @property
    def workload(self) -> tuple[int | None, ...]:
        """What makes two jobs' times comparable."""
        return (self.width, self.height, self.num_frames, self.steps)


@dataclass(frozen=True, slots=True)
class PerformanceThresholds:
    """When a model counts as degraded (from settings)."""

    window: int = 10
    """How many recent generations are judged."""
    min_baseline: int = 5
    """Generations needed before the recent window before anything is judged."""
    slowdown: float = 0.5
    """Degraded when recent generations take this much longer (0.5: 1.5x) than the baseline."""
    failure_rate: float = 0.3
    """Degraded when the recent failure rate exceeds the baseline's by this much."""


class PerformanceStatus(StrEnum):
    """How a model performs compared with its own history."""

    LEARNING = "learning"
    """Too few generations yet to know the model's normal."""
    HEALTHY = "healthy"
    DEGRADED = "degraded"


@dataclass(frozen=True, slots=True)
class PerformanceHealth:
    """The seed's PerformanceHealth: recent generation time and failure rate of one model
    against its baseline, and what to do when it is degraded."""

    model_id: str
    status: PerformanceStatus
    performance_score: float
    """1.0 at or better than baseline; lower as it gets slower or fails more."""
    samples: int
    baseline_generation_time_s: float | None
    recent_generation_time_s: float | None
    slowdown: float | None
    """Median of recent times over their workload's baseline (1.0: as usual)."""
    baseline_failure_rate: float
    recent_failure_rate: float
    recent_quality_issue_rate: float
    reasons: tuple[str, ...]
    suggestions: tuple[str, ...]
    """What to do, in words; each starts with a full verification (``Action.VERIFY_FULL``),
    which the surfaces turn into a route or a command."""
    checked_at: float

    @property
    def is_degraded(self) -> bool:
        """True when the model performs worse than its baseline beyond the thresholds."""
        return self.status is PerformanceStatus.DEGRADED


def assess_performance(
    model_id: str, history: Sequence[GenerationMetrics], limits: PerformanceThresholds
) -> PerformanceHealth:
    """Judge ``history`` (oldest first) of ``model_id``: its last ``limits.window``
    generations against the ones before."""
    recent = list(history[-limits.window :])
    baseline = list(history[: -limits.window]) if len(history) > limits.window else []
    if len(baseline) < limits.min_baseline:
        needed = limits.window + limits.min_baseline
        return PerformanceHealth(
            model_id=model_id,
            status=PerformanceStatus.LEARNING,
            performance_score=1.0,
            samples=len(history),
            baseline_generation_time_s=None,
            recent_generation_time_s=_median_time(recent),
            slowdown=None,
            baseline_failure_rate=0.0,
            recent_failure_rate=_failure_rate(recent),
            recent_quality_issue_rate=_quality_issue_rate(recent),
            reasons=(f"{len(history)} of the {needed} generations needed to learn its normal",),
            suggestions=(),
            checked_at=time.time(),
        )
    slowdown = _slowdown(baseline, recent)
    base_fail, recent_fail = _failure_rate(baseline), _failure_rate(recent)
    quality = _quality_issue_rate(recent)
    reasons: list[str] = []
    suggestions: list[str] = []
    if slowdown is not None and slowdown > 1 + limits.slowdown:
        reasons.append(f"recent generations take {slowdown:.1f}x the usual time")
        suggestions.append(
            "Slow generation: run a full health check (every file hashed), "
            "then look for other models or apps holding GPU memory; enable CPU offload or "
            "lower the resolution if memory is short."
        )
    if recent_fail - base_fail > limits.failure_rate:
        reasons.append(f"{recent_fail:.0%} of recent generations failed (usually {base_fail:.0%})")
        suggestions.append(
            "Frequent failures: verify every file of the model (a full check); "
            "if it is intact, use an alternative model for now and report the errors."
        )
    if quality > limits.failure_rate:
        reasons.append(f"{quality:.0%} of recent outputs were reported bad")
        suggestions.append(
            "Quality issues: verify every file of the model (a full check) and repair "
            "the files it finds damaged."
        )
    score = (1.0 / max(slowdown or 1.0, 1.0)) * (1.0 - max(0.0, recent_fail - base_fail))
    score *= 1.0 - quality
    return PerformanceHealth(
        model_id=model_id,
        status=PerformanceStatus.DEGRADED if reasons else PerformanceStatus.HEALTHY,
        performance_score=round(max(0.0, score), 4),
        samples=len(history),
        baseline_generation_time_s=_median_time(baseline),
        recent_generation_time_s=_median_time(recent),
        slowdown=round(slowdown, 3) if slowdown is not None else None,
        baseline_failure_rate=round(base_fail, 4),
        recent_failure_rate=round(recent_fail, 4),
        recent_quality_issue_rate=round(quality, 4),
        reasons=tuple(reasons),
        suggestions=tuple(suggestions),
        checked_at=time.time(),
    )


def _slowdown(baseline: list[GenerationMetrics], recent: list[GenerationMetrics]) -> float | None:
    """Median ratio of each recent successful time to its workload's baseline median.

    A workload the baseline never saw (a first 720p job after many 480p ones) is not
    comparable and is left out; it becomes part of the baseline later."""
    by_workload: dict[tuple[int | None, ...], list[float]] = defaultdict(list)
    for m in baseline:
        if m.success:
            by_workload[m.workload].append(m.generation_time_s)
    ratios = []
    for m in recent:
        same = by_workload.get(m.workload)
        if m.success and same:
            reference = statistics.median(same)
            if reference > 0:
                ratios.append(m.generation_time_s / reference)
    return statistics.median(ratios) if ratios else None


def _median_time(metrics: list[GenerationMetrics]) -> float | None:
    times = [m.generation_time_s for m in metrics if m.success]
    return round(statistics.median(times), 3) if times else None


def _failure_rate(metrics: list[GenerationMetrics]) -> float:
    return sum(1 for m in metrics if not m.success) / len(metrics) if metrics else 0.0


def _quality_issue_rate(metrics: list[GenerationMetrics]) -> float:
    return sum(1 for m in metrics if m.quality_issue) / len(metrics) if metrics else 0.0


class GenerationLog:
    """Generation metrics kept in the database, this node's own (blocking; run in a worker
    thread)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, model_id: str, metrics: GenerationMetrics) -> None:
        """Keep one generation's metrics."""
        row = insert(generations).values(
            node=self._db.node,
            model_id=model_id,
            at=metrics.at,
            generation_time_s=metrics.generation_time_s,
            success=metrics.success,
            quality_issue=metrics.quality_issue,
            error=(metrics.error or None) and metrics.error[:500],
            width=metrics.width,
            height=metrics.height,
            num_frames=metrics.num_frames,
            steps=metrics.steps,
        )
        self._db.write(lambda conn: conn.execute(row))

    def history(self, model_id: str, limit: int = 200) -> list[GenerationMetrics]:
        """The model's newest ``limit`` generations, oldest first."""
        query = (
            select(generations)
            .where(generations.c.model_id == model_id, self._db.own(generations))
            .order_by(generations.c.at.desc(), generations.c.id.desc())
            .limit(limit)
        )
        rows = self._db.read(lambda conn: conn.execute(query).all())
        return [_metrics(row._mapping) for row in reversed(rows)]

    def models(self) -> list[str]:
        """Models with any generation recorded."""
        query = select(generations.c.model_id).where(self._db.own(generations)).distinct()
        return self._db.read(lambda conn: [r[0] for r in conn.execute(query)])

    def hourly_counts(self, since: float) -> tuple[list[int], int]:
        """Generations per hour of the day (local time) since ``since``, and on how many
        distinct days they fell."""
        counts = [0] * 24
        days: set[int] = set()
        query = select(generations.c.at).where(generations.c.at >= since, self._db.own(generations))
        for (at,) in self._db.read(lambda conn: conn.execute(query).all()):
            local = time.localtime(at)
            counts[local.tm_hour] += 1
            days.add(local.tm_yday + 366 * local.tm_year)
        return counts, len(days)

    def count(self) -> int:
        """How many generations are recorded."""
        query = select(func.count()).select_from(generations).where(self._db.own(generations))
        return int(self._db.read(lambda conn: conn.execute(query).scalar()) or 0)


def _metrics(row: Any) -> GenerationMetrics:
    return GenerationMetrics(
        generation_time_s=float(row["generation_time_s"]),
        success=bool(row["success"]),
        quality_issue=bool(row["quality_issue"]),
        error=row["error"],
        width=row["width"],
        height=row["height"],
        num_frames=row["num_frames"],
        steps=row["steps"],
        at=float(row["at"]),
    )
