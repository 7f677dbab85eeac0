"""modelward keeps large AI model weights available on a machine.

The public API: the seed's components and data models (every name its design uses), plus
the settings, runtime and error tree they are built with. Each name is imported on first use
(module ``__getattr__``), so ``modelward --version``, or a program that imports only
``modelward.units``, does not pay for SQLAlchemy, httpx and FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelward._lazy import lazy_exports
from modelward._version import __version__

if TYPE_CHECKING:
    from modelward.analytics import (
        CleanupRecommendations,
        DailyUsage,
        ModelUsageAnalytics,
        StorageConstraints,
        TimePeriod,
        UsageData,
        UsageReport,
        UsageStatistics,
    )
    from modelward.availability import (
        CleanupResult,
        EnhancedErrorRecovery,
        ErrorContext,
        EstimatedWaitTime,
        FallbackRecoverySystem,
        FallbackStrategy,
        FallbackType,
        GenerationRequest,
        GenerationRequirements,
        IntelligentFallbackManager,
        ModelAvailabilityManager,
        ModelIntegrationBridge,
        ModelRequestResult,
        ModelSuggestion,
        ModelUsageData,
        QueueResult,
        RecoveryResult,
        RetentionPolicy,
    )
    from modelward.catalog import Catalog, ModelSpec, load_catalog
    from modelward.errors import ModelwardError
    from modelward.events import Event, EventBus
    from modelward.health import (
        CorruptionReport,
        GenerationMetrics,
        HealthRecommendation,
        IntegrityIssue,
        IntegrityResult,
        IssueKind,
        ModelHealthMonitor,
        PerformanceHealth,
        RepairResult,
        SystemHealthReport,
        VerifyLevel,
    )
    from modelward.runtime import Runtime
    from modelward.settings import Settings
    from modelward.status import (
        DetailedModelStatus,
        ModelAvailabilityStatus,
        model_status,
    )
    from modelward.store import ModelManager
    from modelward.transfer import (
        DownloadProgress,
        DownloadResult,
        DownloadStatus,
        EnhancedModelDownloader,
        ModelDownloader,
        RetryPolicy,
    )

# The module that defines each public name, imported when the name is first asked for.
_HOMES: dict[str, tuple[str, ...]] = {
    "modelward.analytics": (
        "CleanupRecommendations",
        "DailyUsage",
        "ModelUsageAnalytics",
        "StorageConstraints",
        "TimePeriod",
        "UsageData",
        "UsageReport",
        "UsageStatistics",
    ),
    "modelward.availability": (
        "CleanupResult",
        "EnhancedErrorRecovery",
        "ErrorContext",
        "EstimatedWaitTime",
        "FallbackRecoverySystem",
        "FallbackStrategy",
        "FallbackType",
        "GenerationRequest",
        "GenerationRequirements",
        "IntelligentFallbackManager",
        "ModelAvailabilityManager",
        "ModelIntegrationBridge",
        "ModelRequestResult",
        "ModelSuggestion",
        "ModelUsageData",
        "QueueResult",
        "RecoveryResult",
        "RetentionPolicy",
    ),
    "modelward.catalog": (
        "Catalog",
        "ModelSpec",
        "load_catalog",
    ),
    "modelward.errors": ("ModelwardError",),
    "modelward.events": (
        "Event",
        "EventBus",
    ),
    "modelward.health": (
        "CorruptionReport",
        "GenerationMetrics",
        "HealthRecommendation",
        "IntegrityIssue",
        "IntegrityResult",
        "IssueKind",
        "ModelHealthMonitor",
        "PerformanceHealth",
        "RepairResult",
        "SystemHealthReport",
        "VerifyLevel",
    ),
    "modelward.runtime": ("Runtime",),
    "modelward.settings": ("Settings",),
    "modelward.status": (
        "DetailedModelStatus",
        "ModelAvailabilityStatus",
        "model_status",
    ),
    "modelward.store": ("ModelManager",),
    "modelward.transfer": (
        "DownloadProgress",
        "DownloadResult",
        "DownloadStatus",
        "EnhancedModelDownloader",
        "ModelDownloader",
        "RetryPolicy",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


__all__ = [
    "Catalog",
    "CleanupRecommendations",
    "CleanupResult",
    "CorruptionReport",
    "DailyUsage",
    "DetailedModelStatus",
    "DownloadProgress",
    "DownloadResult",
    "DownloadStatus",
    "EnhancedErrorRecovery",
    "EnhancedModelDownloader",
    "ErrorContext",
    "EstimatedWaitTime",
    "Event",
    "EventBus",
    "FallbackRecoverySystem",
    "FallbackStrategy",
    "FallbackType",
    "GenerationMetrics",
    "GenerationRequest",
    "GenerationRequirements",
    "HealthRecommendation",
    "IntegrityIssue",
    "IntegrityResult",
    "IntelligentFallbackManager",
    "IssueKind",
    "ModelAvailabilityManager",
    "ModelAvailabilityStatus",
    "ModelDownloader",
    "ModelHealthMonitor",
    "ModelIntegrationBridge",
    "ModelManager",
    "ModelRequestResult",
    "ModelSpec",
    "ModelSuggestion",
    "ModelUsageAnalytics",
    "ModelUsageData",
    "ModelwardError",
    "PerformanceHealth",
    "QueueResult",
    "RecoveryResult",
    "RepairResult",
    "RetentionPolicy",
    "RetryPolicy",
    "Runtime",
    "Settings",
    "StorageConstraints",
    "SystemHealthReport",
    "TimePeriod",
    "UsageData",
    "UsageReport",
    "UsageStatistics",
    "VerifyLevel",
    "__version__",
    "load_catalog",
    "model_status",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOME_OF, __all__)
