"""Bodies of the catalog and of model status."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from modelward.api.schemas.seconds import Seconds
from modelward.status import ModelAvailabilityStatus


class CapabilitiesPublic(BaseModel):
    """What a model can be used for."""

    model_config = ConfigDict(from_attributes=True)

    inputs: list[str]
    required_inputs: list[str]
    outputs: list[str]
    resolutions: list[str]
    frame_rate_fps: int | None


class ModelPublic(BaseModel):
    """A catalog entry as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    repo: str
    revision: str
    display_name: str | None
    capabilities: CapabilitiesPublic
    quality_tier: str | None
    relative_speed: float | None
    vram_min_gb: float | None
    vram_recommended_gb: float | None
    expected_size_bytes: int | None


class ModelsPublic(BaseModel):
    """The catalog."""

    data: list[ModelPublic]
    count: int


class RepoIn(BaseModel):
    """A Hub repo to pull by name: it becomes (or is found as) a catalog entry."""

    model_config = ConfigDict(extra="forbid")

    repo_id: str = Field(
        description="ORG/NAME on the service's hub endpoint.",
        examples=["Wan-AI/Wan2.2-TI2V-5B-Diffusers"],
    )
    revision: str | None = Field(
        default=None, description="Branch, tag or commit; default: the entry's, else main."
    )
    include: list[str] = Field(default=[], description="Only files matching these globs.")
    exclude: list[str] = Field(default=[], description="Leave out files matching these globs.")


class RegisteredModelPublic(ModelPublic):
    """The entry a repo became; download it with POST /api/v1/models/{id}/download."""

    include: list[str]
    exclude: list[str]
    created: bool = Field(description="A new remembered entry was made.")


class ModelStatusPublic(BaseModel):
    """The seed's DetailedModelStatus as JSON."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    is_available: bool
    is_loaded: bool
    size_mb: float = Field(description="Decimal MB (10^6 bytes); size_bytes is exact.")
    availability_status: ModelAvailabilityStatus
    download_progress: float | None = Field(
        description="Percent of the model's bytes on disk: the progress_percent "
        "/models/{id}/download reports at the same moment."
    )
    missing_files: list[str] = Field(description="Files not on disk yet, or only partly.")
    damaged_files: list[str] = Field(description="Files on disk a check found damaged.")
    integrity_score: float | None = Field(
        description="Share of the checked bytes found intact (0..1; below 1 whenever a "
        "checked file is damaged); null when nothing was checked yet. Missing files do not "
        "lower it: download_progress and missing_files say how complete the model is."
    )
    last_health_check: datetime | None = Field(
        description="The latest check deeper than stat; a verified pull counts."
    )
    performance_score: float
    corruption_detected: bool
    usage_frequency: float
    last_used: datetime | None
    average_generation_time: float | None
    can_pause_download: bool
    can_resume_download: bool
    estimated_download_time: Seconds | None = Field(
        description="Seconds until the download should be done (null: not downloading)."
    )
    current_version: str
    latest_version: str
    update_available: bool
    usable_for: list[str]
    repo_id: str
    revision: str
    local_path: str | None
    size_bytes: int
    present_bytes: int
    verified_bytes: int
    downloaded_bytes: int = Field(
        description="Bytes on disk (verified files and partial files' recorded ranges): "
        "the downloaded_bytes /models/{id}/download reports."
    )
    error_code: str | None
    error_message: str | None
    error_hint: str | None
    waiting: str | None = Field(
        default=None,
        description="Why the running download waits, as shown: 'rate-limited by the hub, "
        "resuming in 12 s' (null once bytes flow). Rate-limit waits are no retries.",
    )
    resume_at: datetime | None = Field(
        default=None, description="When that wait ends (count down to it)."
    )
    metadata_from: str | None = Field(
        default=None,
        description="Where the files and checksums came from when not from the Hub: "
        "'the mirror s3://team/hf (the Hub: unreachable)' (null: the Hub).",
    )


class ModelStatusesPublic(BaseModel):
    """Status of every catalog model."""

    data: list[ModelStatusPublic]
    count: int
