"""Bodies of availability advice, fallbacks, queued requests and recovery."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from modelward.actions import Action
from modelward.api.actions import route_for
from modelward.api.schemas.limits import MAX_NESTING, MAX_VRAM_GB, MAX_WAIT_S, nesting
from modelward.api.schemas.seconds import Seconds
from modelward.availability.requirements import QualityDifference
from modelward.availability.strategy import ErrorCategory, FallbackType
from modelward.status import ModelAvailabilityStatus


class RequirementsIn(BaseModel):
    """What a generation job gives and needs."""

    model_config = ConfigDict(extra="forbid")

    quality: Literal["low", "medium", "high"] = "high"
    speed: Literal["slow", "medium", "fast"] = "medium"
    inputs: list[Literal["text", "image"]] = Field(default=["text"], min_length=1)
    resolution: str | None = Field(default=None, pattern=r"^\d{2,5}x\d{2,5}$")
    vram_gb: float | None = Field(default=None, gt=0, le=MAX_VRAM_GB)
    max_wait_s: float | None = Field(default=None, gt=0, le=MAX_WAIT_S)


class SuggestionPublic(BaseModel):
    """An alternative model and what choosing it means."""

    model_config = ConfigDict(from_attributes=True)

    suggested_model: str
    compatibility_score: float
    performance_difference: float
    availability_status: ModelAvailabilityStatus
    reason: str = Field(description="What the model takes and what differs, in words.")
    estimated_quality_difference: QualityDifference = Field(
        description="A code; clients show it in words (similar, slightly lower, much lower)."
    )
    needs: list[str]


class WaitPublic(BaseModel):
    """When a model should be ready, and how sure that is."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    seconds: float | None
    low_seconds: float | None
    high_seconds: float | None
    remaining_bytes: int
    bytes_ahead: int
    queue_position: int | None = Field(description="Place in the download queue, 1 = next.")
    speed_bytes_per_s: float
    speed_measured: bool
    verification_seconds: float
    reason: str


class StepPublic(BaseModel):
    """One thing to do: in words, as an action code, and as the route that does it."""

    model_config = ConfigDict(from_attributes=True)

    text: str = Field(description="Plain words, never a command line or a route.")
    action: Action | None = Field(description="The action, as a code (null: done by hand).")
    model_id: str | None = Field(description="The model the action applies to.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def route(self) -> str | None:
        """``METHOD /path`` that carries out ``action`` (null: no route does)."""
        return route_for(self.action, self.model_id) if self.action else None


class StrategyPublic(BaseModel):
    """What a job should do when its model cannot serve it."""

    model_config = ConfigDict(from_attributes=True)

    strategy_type: FallbackType = Field(
        description="use_requested: the requested model is here and fits; nothing replaces it."
    )
    recommended_action: str
    alternative_model: str | None
    estimated_wait_time: Seconds | None = Field(
        description="Seconds until the model should be ready (null: not known)."
    )
    user_message: str
    can_queue_request: bool
    wait: WaitPublic | None
    suggestion: SuggestionPublic | None
    changes: list[str]
    steps: list[StepPublic] = Field(description="Manual steps, each with its action.")
    action: Action | None = Field(
        default=None, description="What to start first, as a code (None: nothing)."
    )
    action_model: str | None = Field(default=None, description="The model it applies to.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def route(self) -> str | None:
        """``METHOD /path`` that starts ``action``, when there is one."""
        return route_for(self.action, self.action_model) if self.action else None


class RequestedFitPublic(BaseModel):
    """Whether the requested model can take the job, whatever its state."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    availability_status: ModelAvailabilityStatus
    fits: bool | None = Field(description="None: its capabilities are not declared.")
    reason: str


class NotOfferedPublic(BaseModel):
    """A model left out of the advice, and why."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    reason: str
    capabilities_known: bool = Field(description='False: shown last, "capabilities unknown".')


class AdvicePublic(BaseModel):
    """The whole answer for a job: the requested model, what to do now, and the others."""

    model_config = ConfigDict(from_attributes=True)

    requested: RequestedFitPublic
    strategy: StrategyPublic
    alternatives: list[SuggestionPublic] = Field(
        description="Models that really take the job, best first."
    )
    not_offered: list[NotOfferedPublic] = Field(
        description="Models that cannot take the job, then those with unknown capabilities."
    )


class GenerateIn(BaseModel):
    """A demo generation job: the model, the prompt, and what the job needs."""

    model_id: str
    prompt: str = Field(default="", max_length=10_000)
    image: str | None = Field(
        default=None,
        max_length=4096,
        description="Path of an image file on the service's machine, or an http(s) URL.",
    )
    params: dict[str, object] = Field(default_factory=dict)
    requirements: RequirementsIn = Field(
        default_factory=RequirementsIn,
        description="The job's inputs follow from prompt and image; requirements.inputs, "
        "when given, must agree with them.",
    )
    queue: bool = Field(default=True, description="Queue the job when its model is on its way.")
    ttl_s: float = Field(
        default=6 * 3600.0, gt=0, le=MAX_WAIT_S, description="How long a queued job waits."
    )

    @field_validator("params")
    @classmethod
    def _shallow(cls, params: dict[str, object]) -> dict[str, object]:
        """Refuse params nested past ``MAX_NESTING`` levels (422): nothing needs more, and
        a hostile depth must not reach the code that copies, logs or records them."""
        if nesting(params) > MAX_NESTING:
            raise ValueError(f"nested deeper than {MAX_NESTING} levels")
        return params


class GeneratePublic(BaseModel):
    """What a demo job did: which model it ran on (or the mock), or why it did not run."""

    model_config = ConfigDict(from_attributes=True)

    requested_model: str
    used_model: str | None
    is_mock: bool
    output_path: str | None
    message: str
    upgrade: StepPublic | None = Field(
        description="How to get the requested model when the job ran on something else."
    )
    strategy: StrategyPublic | None


class QueuedRequestPublic(BaseModel):
    """A generation request waiting for its model (or released to it)."""

    model_config = ConfigDict(from_attributes=True)

    request_id: str
    model_id: str
    payload: dict[str, object]
    state: str
    created_at: float
    expires_at: float
    position: int | None = Field(description="Place among the model's queued requests, 1 = next.")


class QueueResultPublic(BaseModel):
    """Where a queued job waits, and for how long."""

    model_config = ConfigDict(from_attributes=True)

    success: bool
    request_id: str | None
    model_id: str
    state: str
    position: int | None = Field(description="Place among the model's queued requests, 1 = next.")
    expires_at: float | None
    estimated_wait: WaitPublic | None
    message: str
    strategy: StrategyPublic | None = None


class RecoverIn(BaseModel):
    """What went wrong with a model, as the app saw it (no category: the facts decide)."""

    model_config = ConfigDict(extra="forbid")

    category: ErrorCategory = ErrorCategory.MODEL_UNAVAILABLE
    error_message: str | None = Field(default=None, max_length=4000)
    expected_revision: str | None = Field(default=None, max_length=200)
    requirements: RequirementsIn = Field(default_factory=RequirementsIn)


class RecoveryPublic(BaseModel):
    """What the recovery did, or what a person should do."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    category: str
    action: str
    success: bool
    message: str
    steps: list[StepPublic]
    strategy: StrategyPublic | None
    details: dict[str, object]


class EnsureIn(BaseModel):
    """Models to make available (none: every catalog model)."""

    model_config = ConfigDict(extra="forbid")

    model_ids: list[str] | None = None


class StatesPublic(BaseModel):
    """Each model's state after an action, and the download order."""

    states: dict[str, str]
    order: list[str]
