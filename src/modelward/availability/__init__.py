"""Availability: which model a job can use now, and what to do when it cannot."""

from modelward.analytics.cleanup import CleanupCandidate, CleanupResult
from modelward.availability.bridge import ModelIntegrationBridge, ModelLease
from modelward.availability.demo import DemoGenerator, GenerationOutcome
from modelward.availability.fallback import (
    GenerationRequest,
    IntelligentFallbackManager,
    NoAlternativeError,
    QueueResult,
)
from modelward.availability.gpu import GpuMemory, VramProbe
from modelward.availability.manager import (
    ModelAvailabilityManager,
    ModelRequestResult,
    ModelUsageData,
    RetentionPolicy,
)
from modelward.availability.recovery import (
    EnhancedErrorRecovery,
    RecoveryAction,
    RecoveryResult,
)
from modelward.availability.requests import QueuedRequest, RequestQueue, RequestState
from modelward.availability.requirements import (
    GenerationRequirements,
    ModelSuggestion,
    QualityDifference,
)
from modelward.availability.scoring import Fit, exclusion, fit
from modelward.availability.storage import ModelSpace, StorageStatus, StorageWatch
from modelward.availability.strategy import (
    ErrorCategory,
    ErrorContext,
    FallbackStrategy,
    FallbackType,
)
from modelward.availability.wait import EstimatedWaitTime

__all__ = [
    "CleanupCandidate",
    "CleanupResult",
    "DemoGenerator",
    "EnhancedErrorRecovery",
    "ErrorCategory",
    "ErrorContext",
    "EstimatedWaitTime",
    "FallbackStrategy",
    "FallbackType",
    "Fit",
    "GenerationOutcome",
    "GenerationRequest",
    "GenerationRequirements",
    "GpuMemory",
    "IntelligentFallbackManager",
    "ModelAvailabilityManager",
    "ModelIntegrationBridge",
    "ModelLease",
    "ModelRequestResult",
    "ModelSpace",
    "ModelSuggestion",
    "ModelUsageData",
    "NoAlternativeError",
    "QualityDifference",
    "QueueResult",
    "QueuedRequest",
    "RecoveryAction",
    "RecoveryResult",
    "RequestQueue",
    "RequestState",
    "RetentionPolicy",
    "StorageStatus",
    "StorageWatch",
    "VramProbe",
    "exclusion",
    "fit",
]
