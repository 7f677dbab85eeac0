"""Performance problems that go with how a model is used (Requirement 8.4), and what to try.

Each check splits one model's successful jobs in two by one circumstance (another model
loaded, the newest snapshot commit, the hour of day) and compares median durations. Medians,
because one stalled job should not make a pattern. A finding needs ``MIN_SAMPLES`` jobs on
each side and a slowdown of at least ``MIN_SLOWDOWN``.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from modelward.actions import Action
from modelward.analytics.usage import UsageData, UsageEvent

MIN_SAMPLES = 3
MIN_SLOWDOWN = 1.3

CONCURRENT_LOAD = "concurrent-load"
AFTER_UPDATE = "after-update"
HOUR_OF_DAY = "hour-of-day"


@dataclass(frozen=True, slots=True)
class PerformanceFinding:
    """A performance problem correlated with usage, and what to try."""

    model_id: str
    kind: str
    """``concurrent-load``, ``after-update`` or ``hour-of-day``."""
    message: str
    suggestion: str
    """What to try, in words (never a command or a route)."""
    slowdown: float
    """Median duration under the circumstance over the median without it."""
    samples: int
    """Jobs under the circumstance (the slow side)."""
    action: Action | None = None
    """The action the suggestion names, when one does it (the surfaces add route or command)."""


def find_correlations(model_id: str, events: Sequence[UsageEvent]) -> list[PerformanceFinding]:
    """Findings about one model's ``events`` (oldest first), largest slowdown first."""
    jobs = [e.usage for e in events]
    found = [check(model_id, jobs) for check in (_concurrent_load, _after_update, _hour_of_day)]
    return order_findings([f for f in found if f is not None])


def order_findings(findings: list[PerformanceFinding]) -> list[PerformanceFinding]:
    """Largest slowdown first; then by model and kind, so the order is stable."""
    return sorted(findings, key=lambda f: (-f.slowdown, f.model_id, f.kind))


def _concurrent_load(model_id: str, jobs: list[UsageData]) -> PerformanceFinding | None:
    shared = _times(jobs, lambda j: j.concurrent_loaded >= 2)
    alone = _times(jobs, lambda j: j.concurrent_loaded == 1)
    slowdown = _slowdown(shared, alone)
    if slowdown is None:
        return None
    return PerformanceFinding(
        model_id=model_id,
        kind=CONCURRENT_LOAD,
        message=f"{model_id} generations take {slowdown:.1f}x as long while another model "
        f"is loaded ({len(shared)} jobs)",
        suggestion="Run jobs one at a time or unload the other model before large jobs.",
        slowdown=slowdown,
        samples=len(shared),
    )


def _after_update(model_id: str, jobs: list[UsageData]) -> PerformanceFinding | None:
    # The versions come from every job, failed ones too: a version whose jobs all fail is
    # still the newest, and comparing two older ones would blame the wrong update.
    commits = [j.commit for j in jobs if j.commit]
    if not commits:
        return None
    newest = commits[-1]
    previous = next((c for c in reversed(commits) if c != newest), None)
    if previous is None:
        return None
    new = _times(jobs, lambda j: j.commit == newest)
    old = _times(jobs, lambda j: j.commit == previous)
    slowdown = _slowdown(new, old)
    if slowdown is None:
        return None
    return PerformanceFinding(
        model_id=model_id,
        kind=AFTER_UPDATE,
        message=f"{model_id} generations take {slowdown:.1f}x as long since the update to "
        f"{newest[:8]} ({len(new)} jobs, against {len(old)} on {previous[:8]})",
        suggestion="If the new version is the cause, roll back to the previous one and "
        "report the slowdown upstream.",
        slowdown=slowdown,
        samples=len(new),
        action=Action.ROLLBACK,
    )


def _hour_of_day(model_id: str, jobs: list[UsageData]) -> PerformanceFinding | None:
    by_hour: defaultdict[int, list[float]] = defaultdict(list)
    for job in jobs:
        if job.success:
            by_hour[time.localtime(job.at).tm_hour].append(job.duration_s)
    candidates = [hour for hour, times in by_hour.items() if len(times) >= MIN_SAMPLES]
    if not candidates:
        return None
    # The slowest hour; on a tie the earlier one, so the answer does not depend on order.
    hour = max(candidates, key=lambda h: (statistics.median(by_hour[h]), -h))
    rest = [t for h, times in by_hour.items() if h != hour for t in times]
    slowdown = _slowdown(by_hour[hour], rest)
    if slowdown is None:
        return None
    span = f"{hour:02d}:00 and {(hour + 1) % 24:02d}:00"
    return PerformanceFinding(
        model_id=model_id,
        kind=HOUR_OF_DAY,
        message=f"{model_id} generations between {span} take {slowdown:.1f}x as long as at "
        f"other hours ({len(by_hour[hour])} jobs)",
        suggestion=f"Something else loads the machine between {span} (backups, other GPU "
        "jobs, games, scheduled tasks): find it, or run large jobs at other hours.",
        slowdown=slowdown,
        samples=len(by_hour[hour]),
    )


def _times(jobs: list[UsageData], where: Callable[[UsageData], bool]) -> list[float]:
    """Durations of the successful jobs ``where`` picks (a failed job's time says little)."""
    return [j.duration_s for j in jobs if j.success and where(j)]


def _slowdown(slow: list[float], usual: list[float]) -> float | None:
    """Median of ``slow`` over median of ``usual``, when both are big enough to mean
    something and the ratio reaches ``MIN_SLOWDOWN``."""
    if len(slow) < MIN_SAMPLES or len(usual) < MIN_SAMPLES:
        return None
    reference = statistics.median(usual)
    if reference <= 0:
        return None
    ratio = statistics.median(slow) / reference
    return round(ratio, 3) if ratio >= MIN_SLOWDOWN else None
