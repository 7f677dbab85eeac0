"""modelward keeps large AI model weights available on a machine.

The public API: the seed's components and data models (every name its design uses), plus
the settings, runtime and error tree they are built with.
"""

__version__ = "0.1.0"

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
