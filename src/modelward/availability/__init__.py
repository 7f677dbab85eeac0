"""Availability: which model a job can use now, and what to do when it cannot."""

from modelward.analytics.cleanup import CleanupCandidate, CleanupResult
from modelward.availability.advice import Advice, NotOffered, RequestedFit
from modelward.availability.bridge import ModelIntegrationBridge, ModelLease
from modelward.availability.cleanup import CleanupPlan, RetentionPolicy, plan_cleanup
from modelward.availability.demo import DemoGenerator, GenerationOutcome
from modelward.availability.enhanced_recovery import EnhancedErrorRecovery
from modelward.availability.fallback import IntelligentFallbackManager
from modelward.availability.gpu import GpuMemory, VramProbe
from modelward.availability.manager import ModelAvailabilityManager, ModelUsageData
from modelward.availability.queueing import GenerationRequest, QueueResult
from modelward.availability.recovery import (
    FallbackRecoverySystem,
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
    FallbackFeatures,
    FallbackStrategy,
    FallbackType,
    ModelRequestResult,
)
from modelward.availability.wait import EstimatedWaitTime
from modelward.errors import (
    InputMissingError,
    InputNotFoundError,
    InputUnsupportedError,
    JobInputError,
    NoAlternativeError,
)

__all__ = [
    "Advice",
    "CleanupCandidate",
    "CleanupPlan",
    "CleanupResult",
    "DemoGenerator",
    "EnhancedErrorRecovery",
    "ErrorCategory",
    "ErrorContext",
    "EstimatedWaitTime",
    "FallbackFeatures",
    "FallbackRecoverySystem",
    "FallbackStrategy",
    "FallbackType",
    "Fit",
    "GenerationOutcome",
    "GenerationRequest",
    "GenerationRequirements",
    "GpuMemory",
    "InputMissingError",
    "InputNotFoundError",
    "InputUnsupportedError",
    "IntelligentFallbackManager",
    "JobInputError",
    "ModelAvailabilityManager",
    "ModelIntegrationBridge",
    "ModelLease",
    "ModelRequestResult",
    "ModelSpace",
    "ModelSuggestion",
    "ModelUsageData",
    "NoAlternativeError",
    "NotOffered",
    "QualityDifference",
    "QueueResult",
    "QueuedRequest",
    "RecoveryAction",
    "RecoveryResult",
    "RequestQueue",
    "RequestState",
    "RequestedFit",
    "RetentionPolicy",
    "StorageStatus",
    "StorageWatch",
    "VramProbe",
    "exclusion",
    "fit",
    "plan_cleanup",
]
