"""What a job should do when its model cannot serve it: the strategy types and the error
context they are decided from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from modelward.actions import Action, Step
from modelward.availability.requirements import GenerationRequirements, ModelSuggestion
from modelward.availability.wait import EstimatedWaitTime
from modelward.status import ModelAvailabilityStatus


class FallbackType(StrEnum):
    """The seed's strategy types, plus asking less of the requested model and using it as
    it is (when it is available and fits, no alternative replaces it)."""

    USE_REQUESTED = "use_requested"
    ALTERNATIVE_MODEL = "alternative_model"
    QUEUE_AND_WAIT = "queue_and_wait"
    DOWNLOAD_AND_RETRY = "download_and_retry"
    MOCK_GENERATION = "mock_generation"
    REDUCE_REQUIREMENTS = "reduce_requirements"
    NO_MODEL = "no_model"
    """Nothing can run the job and the mock fallback is switched off."""


@dataclass(frozen=True, slots=True)
class FallbackFeatures:
    """Which fallback enhancements are on (settings ``feature_*``); off, the strategy is
    the plain base system's: no alternative, no queued request, no mock output."""

    alternatives: bool = True
    queueing: bool = True
    mock: bool = True


class ErrorCategory(StrEnum):
    """What went wrong, as the app (or modelward) saw it: the seed's error categories."""

    MODEL_UNAVAILABLE = "model-unavailable"
    LOAD_FAILED = "load-failed"
    # Download failures
    NETWORK = "network"
    PARTIAL_DOWNLOAD = "partial-download"
    CORRUPTED_DOWNLOAD = "corrupted-download"
    STORAGE_FULL = "storage-full"
    # Model loading failures
    MISSING_FILES = "missing-files"
    CORRUPTION_AT_LOAD = "corruption-at-load"
    VERSION_MISMATCH = "version-mismatch"
    VRAM_INSUFFICIENT = "vram-insufficient"
    # Performance degradation
    SLOW_GENERATION = "slow-generation"
    QUALITY_ISSUES = "quality-issues"
    FREQUENT_FAILURES = "frequent-failures"


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """The seed's ErrorContext: the job's requirements and what failed."""

    requirements: GenerationRequirements = field(default_factory=GenerationRequirements)
    category: ErrorCategory = ErrorCategory.MODEL_UNAVAILABLE
    error_message: str | None = None
    expected_revision: str | None = None
    """The commit or revision the app expected (VERSION_MISMATCH)."""
    model_id: str | None = None
    """The model that failed (the base recovery's ``attempt_recovery`` reads it here)."""


@dataclass(frozen=True, slots=True)
class FallbackStrategy:
    """The seed's FallbackStrategy, with the facts behind it."""

    strategy_type: FallbackType
    recommended_action: str
    alternative_model: str | None = None
    estimated_wait_time: timedelta | None = None
    user_message: str = ""
    can_queue_request: bool = False
    wait: EstimatedWaitTime | None = None
    suggestion: ModelSuggestion | None = None
    changes: tuple[str, ...] = ()
    """What the job must change (REDUCE_REQUIREMENTS, or to use the alternative)."""
    steps: tuple[Step, ...] = ()
    """Manual steps that would make the requested model available, each with its action."""
    action: Action | None = None
    """What to start first, as a code (download or repair: the API adds the route, the CLI
    the command); None when nothing needs starting."""
    action_model: str | None = None
    """The model ``action`` applies to (the requested one, or the alternative to fetch)."""


@dataclass(frozen=True, slots=True)
class ModelRequestResult:
    """The seed's ModelRequestResult: what a job asking for a model can use right now."""

    requested_model: str
    availability_status: ModelAvailabilityStatus
    """The requested model's state."""
    model_id: str | None
    """The model to run: the requested one, a ready alternative, or None."""
    path: str | None
    """That model's local snapshot folder."""
    strategy: FallbackStrategy | None = None
    """Why not the requested model, and what else would work."""
    upgrade: Step | None = None
    """How to get the requested model when the job uses something else."""

    @property
    def success(self) -> bool:
        """True when a real model can run the job now."""
        return self.model_id is not None

    @property
    def is_mock(self) -> bool:
        """True when only the labelled mock can serve the job."""
        return (
            self.model_id is None
            and self.strategy is not None
            and self.strategy.strategy_type is FallbackType.MOCK_GENERATION
        )
