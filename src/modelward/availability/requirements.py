"""What a generation job needs, and what modelward suggests for it (the seed's data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Literal

from modelward.errors import ConfigError
from modelward.status import ModelAvailabilityStatus

Level = Literal["low", "medium", "high"]
Speed = Literal["slow", "medium", "fast"]
INPUTS = frozenset({"text", "image"})


@dataclass(frozen=True, slots=True)
class GenerationRequirements:
    """The seed's GenerationRequirements: what a job gives and needs."""

    quality: Level = "high"
    speed: Speed = "medium"
    inputs: frozenset[str] = frozenset({"text"})
    """What the job gives: text, an image, or both."""
    resolution: str | None = None
    """WIDTHxHEIGHT the job wants (None: any the model renders)."""
    vram_gb: float | None = None
    """GPU memory free for the job (None: read from the GPU, else from the setting)."""
    max_wait: timedelta | None = None
    """The longest the job may wait for a model to arrive."""

    def __post_init__(self) -> None:
        unknown = set(self.inputs) - INPUTS
        if not self.inputs or unknown:
            raise ConfigError(
                f"job inputs must be text, image or both, got {sorted(self.inputs)}",
                hint="Say what the job gives, e.g. inputs=frozenset({'text'}).",
            )


class QualityDifference(StrEnum):
    """How an alternative's output quality compares with the requested model's."""

    SIMILAR = "similar"
    SLIGHTLY_LOWER = "slightly_lower"
    SIGNIFICANTLY_LOWER = "significantly_lower"


@dataclass(frozen=True, slots=True)
class ModelSuggestion:
    """The seed's ModelSuggestion: an alternative and what choosing it means."""

    suggested_model: str
    compatibility_score: float
    """How well the alternative fits the job, 0..1."""
    performance_difference: float
    """-1..1: negative is slower than the requested model, positive faster."""
    availability_status: ModelAvailabilityStatus
    reason: str
    estimated_quality_difference: QualityDifference
    needs: tuple[str, ...] = field(default_factory=tuple)
    """What the job must change to use it (a lower resolution, CPU offload)."""
