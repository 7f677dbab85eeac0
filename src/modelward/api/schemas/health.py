"""Bodies of integrity checks, repairs, quarantine and the health report."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from modelward.api.schemas.limits import MAX_COUNT, MAX_GENERATION_S, MAX_PIXELS


class IntegrityIssuePublic(BaseModel):
    """One problem with one file of a model."""

    model_config = ConfigDict(from_attributes=True)

    path: str
    kind: str
    detail: str


class IntegrityPublic(BaseModel):
    """What an integrity check of a model found."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    level: str
    is_healthy: bool
    integrity_score: float | None = Field(
        description="Share of the checked bytes found intact (0..1); null when no file was "
        "on disk to check. Missing files do not lower it (see files_checked)."
    )
    issues: list[IntegrityIssuePublic]
    checked_at: float
    files_checked: int
    bytes_hashed: int


class RepairPlanPublic(BaseModel):
    """What a repair fetched again for one file, and where its damaged copy went."""

    model_config = ConfigDict(from_attributes=True)

    path: str
    damaged_ranges: list[tuple[int, int]]
    refetch_bytes: int
    quarantine_id: str | None


class RepairPublic(BaseModel):
    """What verify-and-repair found and did."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    success: bool
    issues_found: list[IntegrityIssuePublic]
    plans: list[RepairPlanPublic]
    bytes_fetched: int
    error_message: str | None
    error_hint: str | None


class RepairAccepted(BaseModel):
    """A repair started in the background."""

    model_id: str
    status: str = "repairing"
    status_url: str


class QuarantineEntryPublic(BaseModel):
    """A file set aside as damaged or unsafe, and why."""

    model_config = ConfigDict(from_attributes=True)

    entry_id: str
    repo_id: str
    path: str
    blob_name: str
    reason: str
    size_bytes: int
    quarantined_at: float
    ranges: list[tuple[int, int]] | None = None
    file_size_bytes: int | None = None


class PurgePublic(BaseModel):
    """What a quarantine purge deleted."""

    purged: int
    freed_bytes: int
    kept: int = 0
    """Entries kept because their file is not back in the store, verified."""


class GenerationMetricsIn(BaseModel):
    """One generation job's outcome, as a generation app reports it."""

    generation_time_s: float = Field(
        ge=0, le=MAX_GENERATION_S, description="Wall time of the job in seconds."
    )
    success: bool = True
    quality_issue: bool = Field(
        default=False, description="The job ran but the output was bad (black frames, NaNs)."
    )
    error: str | None = Field(default=None, max_length=2000)
    width: int | None = Field(default=None, ge=1, le=MAX_PIXELS)
    height: int | None = Field(default=None, ge=1, le=MAX_PIXELS)
    num_frames: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    steps: int | None = Field(default=None, ge=1, le=MAX_COUNT)


class PerformanceHealthPublic(BaseModel):
    """A model's recent generations against its own baseline."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    status: str
    is_degraded: bool
    performance_score: float
    samples: int
    baseline_generation_time_s: float | None
    recent_generation_time_s: float | None
    slowdown: float | None
    baseline_failure_rate: float
    recent_failure_rate: float
    recent_quality_issue_rate: float
    reasons: list[str]
    suggestions: list[str]
    checked_at: float


class HealthRecommendationPublic(BaseModel):
    """One thing to do: its action code and the route that carries it out."""

    model_config = ConfigDict(from_attributes=True)

    severity: str
    message: str
    action: str = Field(
        description="What to do, as a code: download, repair, verify, verify-full, cleanup, "
        "list-quarantine, purge-quarantine, remove-stray-files..."
    )
    route: str | None = Field(
        default=None, description="METHOD /path that carries the action out (null: none)."
    )
    model_id: str | None


class ModelHealthPublic(BaseModel):
    """One model's health in the system report."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    condition: str
    integrity_score: float | None = Field(
        description="Share of the checked bytes found intact (0..1); null when no file is "
        "on disk to check. Missing files do not lower it: the download's progress says that."
    )
    issues: list[IntegrityIssuePublic]
    last_health_check: datetime | None
    last_check_level: str | None
    check_age_s: float | None
    performance_score: float
    performance_status: str
    performance_reasons: list[str]
    repairing: bool
    downloading: bool


class SystemHealthReportPublic(BaseModel):
    """The seed's SystemHealthReport, each model's health and the next scheduled check."""

    model_config = ConfigDict(from_attributes=True)

    overall_health_score: float
    models_healthy: int
    models_degraded: int
    models_corrupted: int
    models_incomplete: int
    models_absent: int
    storage_usage_percent: float
    storage_free_bytes: int
    quarantine_bytes: int
    recommendations: list[HealthRecommendationPublic]
    models: list[ModelHealthPublic]
    last_updated: datetime
    next_scheduled_check: datetime | None = None
    automation: str = "ask"
    features_off: list[str] = Field(
        default_factory=list, description="Enhancements switched off in the settings."
    )
