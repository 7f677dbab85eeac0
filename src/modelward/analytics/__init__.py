"""Usage analytics: which models are used when and how well, from the jobs the integration
bridge reports; figures, reports, preload suggestions and performance findings."""

from modelward.analytics.cleanup import (
    CleanupCandidate,
    CleanupRecommendations,
    CleanupResult,
    StorageConstraints,
)
from modelward.analytics.correlate import PerformanceFinding
from modelward.analytics.report import ModelUsageAnalytics, UsageReport
from modelward.analytics.stats import ALL_MODELS, DailyUsage, UsageStatistics
from modelward.analytics.usage import TimePeriod, UsageData, UsageLog

__all__ = [
    "ALL_MODELS",
    "CleanupCandidate",
    "CleanupRecommendations",
    "CleanupResult",
    "DailyUsage",
    "ModelUsageAnalytics",
    "PerformanceFinding",
    "StorageConstraints",
    "TimePeriod",
    "UsageData",
    "UsageLog",
    "UsageReport",
    "UsageStatistics",
]
