"""What a job should do when its model cannot serve it: the strategy types and the error
context they are decided from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from modelward.availability.requirements import GenerationRequirements, ModelSuggestion
from modelward.availability.wait import EstimatedWaitTime


class FallbackType(StrEnum):
    """The seed's strategy types, plus asking less of the requested model."""

    ALTERNATIVE_MODEL = "alternative_model"
    QUEUE_AND_WAIT = "queue_and_wait"
    DOWNLOAD_AND_RETRY = "download_and_retry"
    MOCK_GENERATION = "mock_generation"
    REDUCE_REQUIREMENTS = "reduce_requirements"


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
    steps: tuple[str, ...] = ()
    """Manual steps that would make the requested model available."""
