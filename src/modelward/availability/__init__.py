"""Availability: which model a job can use now, and what to do when it cannot."""

from modelward.availability.bridge import ModelIntegrationBridge, ModelLease
from modelward.availability.demo import DemoGenerator, GenerationOutcome
from modelward.availability.fallback import (
    ErrorCategory,
    ErrorContext,
    FallbackStrategy,
    FallbackType,
    GenerationRequest,
    IntelligentFallbackManager,
    NoAlternativeError,
    QueueResult,
)
from modelward.availability.requests import QueuedRequest, RequestQueue, RequestState
from modelward.availability.requirements import (
    GenerationRequirements,
    ModelSuggestion,
    QualityDifference,
)
from modelward.availability.scoring import Fit, exclusion, fit
from modelward.availability.wait import EstimatedWaitTime

__all__ = [
    "DemoGenerator",
    "ErrorCategory",
    "ErrorContext",
    "EstimatedWaitTime",
    "FallbackStrategy",
    "FallbackType",
    "Fit",
    "GenerationOutcome",
    "GenerationRequest",
    "GenerationRequirements",
    "IntelligentFallbackManager",
    "ModelIntegrationBridge",
    "ModelLease",
    "ModelSuggestion",
    "NoAlternativeError",
    "QualityDifference",
    "QueueResult",
    "QueuedRequest",
    "RequestQueue",
    "RequestState",
    "exclusion",
    "fit",
]
