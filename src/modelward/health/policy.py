"""What the health monitor checks, when, and what it does about what it finds: the
automation, schedule and thresholds settings as one value, with the feature switches
applied (scheduled health checks off: no check at start or by schedule; automatic repair
off: ``auto`` acts like ``ask``, findings are proposed and nothing starts by itself)."""

from __future__ import annotations

from dataclasses import dataclass, field

from modelward.health.checker import DEFAULT_SCRUB_BUDGET_BYTES, VerifyLevel
from modelward.health.performance import PerformanceThresholds
from modelward.settings import Settings


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """What the monitor checks, when, and what it does about what it finds (from settings)."""

    automation: str = "ask"
    """off: report only; ask: propose downloads and repairs; auto: start them."""
    at_start: bool = True
    interval_s: float = 24 * 3600.0
    level: VerifyLevel = VerifyLevel.SCRUB
    scrub_budget_bytes: int = DEFAULT_SCRUB_BUDGET_BYTES
    thresholds: PerformanceThresholds = field(default_factory=PerformanceThresholds)

    @classmethod
    def from_settings(cls, settings: Settings) -> HealthPolicy:
        """The policy the settings describe."""
        # Features off: no checks by schedule; findings proposed, never acted on alone.
        scheduled = settings.feature_scheduled_health_checks
        return cls(
            automation="ask"
            if settings.automation == "auto" and not settings.feature_automatic_repair
            else settings.automation,
            at_start=settings.health_check_at_start and scheduled,
            interval_s=settings.health_check_interval_s if scheduled else 0.0,
            level=VerifyLevel(settings.health_check_level),
            scrub_budget_bytes=settings.scrub_budget_bytes,
            thresholds=PerformanceThresholds(
                window=settings.performance_window,
                min_baseline=settings.performance_min_baseline,
                slowdown=settings.performance_slowdown,
                failure_rate=settings.performance_failure_rate,
            ),
        )
