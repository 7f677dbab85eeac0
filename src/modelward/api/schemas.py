"""The service's request and response bodies (pydantic at the edge, dataclasses inside)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modelward.availability.strategy import ErrorCategory
from modelward.status import ModelAvailabilityStatus
from modelward.transfer import DownloadStatus, Priority


class ErrorPublic(BaseModel):
    """Every error the API returns: a stable code, a message and the action to take."""

    code: str
    message: str
    hint: str
    retryable: bool


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


class ModelStatusPublic(BaseModel):
    """The seed's DetailedModelStatus as JSON."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    is_available: bool
    is_loaded: bool
    size_mb: float
    availability_status: ModelAvailabilityStatus
    download_progress: float | None
    missing_files: list[str]
    integrity_score: float
    last_health_check: datetime | None
    performance_score: float
    corruption_detected: bool
    usage_frequency: float
    last_used: datetime | None
    average_generation_time: float | None
    can_pause_download: bool
    can_resume_download: bool
    estimated_download_time: timedelta | None
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
    error_code: str | None
    error_message: str | None
    error_hint: str | None


class ModelStatusesPublic(BaseModel):
    """Status of every catalog model."""

    data: list[ModelStatusPublic]
    count: int


class FileProgressPublic(BaseModel):
    """One file's share of a download."""

    model_config = ConfigDict(from_attributes=True)

    path: str
    total_bytes: int
    done_bytes: int
    verified: bool


class DownloadProgressPublic(BaseModel):
    """The seed's DownloadProgress as JSON."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    status: DownloadStatus
    progress_percent: float
    downloaded_mb: float
    total_mb: float
    speed_mbps: float
    eta_seconds: float | None
    retry_count: int
    max_retries: int
    error_message: str | None
    error_code: str | None
    can_pause: bool
    can_resume: bool
    can_cancel: bool
    downloaded_bytes: int
    total_bytes: int
    speed_bytes_per_s: float
    files: dict[str, FileProgressPublic]


class DownloadAccepted(BaseModel):
    """The answer to a download request: the job runs in the background."""

    model_id: str
    status: DownloadStatus
    progress_url: str


class HealthzPublic(BaseModel):
    """Liveness of the service."""

    status: str
    version: str


class DownloadControlPublic(BaseModel):
    """The answer to pause or resume: whether the request changed anything."""

    model_id: str
    action: str
    changed: bool


class CancelPublic(BaseModel):
    """The answer to cancel: whether a transfer was stopped and the space freed."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    stopped: bool
    freed_bytes: int


class PriorityUpdate(BaseModel):
    """A new priority for a model's download."""

    priority: Priority


class PriorityPublic(BaseModel):
    """A model's download priority."""

    model_id: str
    priority: Priority


class QueueEntryPublic(BaseModel):
    """One model in the download queue."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    priority: Priority
    position: int
    status: DownloadStatus


class QueuePublic(BaseModel):
    """The download queue, in the order connections are given out."""

    data: list[QueueEntryPublic]
    count: int


class QueueMove(BaseModel):
    """Where to put a model in the queue (0 is the front)."""

    position: int = Field(ge=0)


class QueueOrderPublic(BaseModel):
    """The queue's model ids after a move, front first."""

    order: list[str]


class BandwidthUpdate(BaseModel):
    """A bandwidth cap in MiB/s; 0 means unlimited."""

    limit_mbps: float = Field(
        ge=0, allow_inf_nan=False, description="MiB/s (2^20 bytes per second); 0 = unlimited."
    )


class BandwidthPublic(BaseModel):
    """The cap on the total download rate, in MiB/s (0 = unlimited)."""

    limit_mbps: float


class ModelBandwidthPublic(BaseModel):
    """The cap on one model's download rate, in MiB/s (0 = no cap of its own)."""

    model_id: str
    limit_mbps: float


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
    integrity_score: float
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

    generation_time_s: float = Field(ge=0, description="Wall time of the job in seconds.")
    success: bool = True
    quality_issue: bool = Field(
        default=False, description="The job ran but the output was bad (black frames, NaNs)."
    )
    error: str | None = Field(default=None, max_length=2000)
    width: int | None = Field(default=None, ge=1)
    height: int | None = Field(default=None, ge=1)
    num_frames: int | None = Field(default=None, ge=1)
    steps: int | None = Field(default=None, ge=1)


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
    """One thing to do, with the command and route that do it."""

    model_config = ConfigDict(from_attributes=True)

    severity: str
    message: str
    action: str
    route: str | None
    model_id: str | None


class ModelHealthPublic(BaseModel):
    """One model's health in the system report."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    condition: str
    integrity_score: float
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


class RequirementsIn(BaseModel):
    """What a generation job gives and needs."""

    model_config = ConfigDict(extra="forbid")

    quality: Literal["low", "medium", "high"] = "high"
    speed: Literal["slow", "medium", "fast"] = "medium"
    inputs: list[Literal["text", "image"]] = Field(default=["text"], min_length=1)
    resolution: str | None = Field(default=None, pattern=r"^\d{2,5}x\d{2,5}$")
    vram_gb: float | None = Field(default=None, gt=0)
    max_wait_s: float | None = Field(default=None, gt=0)


class SuggestionPublic(BaseModel):
    """An alternative model and what choosing it means."""

    model_config = ConfigDict(from_attributes=True)

    suggested_model: str
    compatibility_score: float
    performance_difference: float
    availability_status: str
    reason: str
    estimated_quality_difference: str
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
    queue_position: int | None
    speed_bytes_per_s: float
    speed_measured: bool
    verification_seconds: float
    reason: str


class StrategyPublic(BaseModel):
    """What a job should do when its model cannot serve it."""

    model_config = ConfigDict(from_attributes=True)

    strategy_type: str
    recommended_action: str
    alternative_model: str | None
    estimated_wait_time: timedelta | None
    user_message: str
    can_queue_request: bool
    wait: WaitPublic | None
    suggestion: SuggestionPublic | None
    changes: list[str]
    steps: list[str]


class GenerateIn(BaseModel):
    """A demo generation job: the model, the prompt, and what the job needs."""

    model_id: str
    prompt: str = Field(default="", max_length=10_000)
    image: str | None = Field(default=None, max_length=4096)
    params: dict[str, object] = Field(default_factory=dict)
    requirements: RequirementsIn = Field(default_factory=RequirementsIn)
    queue: bool = Field(default=True, description="Queue the job when its model is on its way.")
    ttl_s: float = Field(default=6 * 3600.0, gt=0, description="How long a queued job waits.")


class GeneratePublic(BaseModel):
    """What a demo job did: which model it ran on (or the mock), or why it did not run."""

    model_config = ConfigDict(from_attributes=True)

    requested_model: str
    used_model: str | None
    is_mock: bool
    output_path: str | None
    message: str
    upgrade: str | None
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
    position: int | None


class QueueResultPublic(BaseModel):
    """Where a queued job waits, and for how long."""

    model_config = ConfigDict(from_attributes=True)

    success: bool
    request_id: str | None
    model_id: str
    state: str
    position: int | None
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
    steps: list[str]
    strategy: StrategyPublic | None
    details: dict[str, object]


class CleanupIn(BaseModel):
    """Which unused models a cleanup may remove (a dry run unless ``dry_run`` is false)."""

    model_config = ConfigDict(extra="forbid")

    keep_recent_days: float = Field(default=30.0, ge=0)
    target_free_bytes: int | None = Field(default=None, ge=0)
    keep: list[str] = Field(default_factory=list)
    dry_run: bool = True


class CleanupCandidatePublic(BaseModel):
    """A model cleanup removes (or keeps), and why."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    size_bytes: int
    last_used: datetime | None
    uses_per_day: float
    reason: str


class CleanupPublic(BaseModel):
    """What a cleanup removed, or in a dry run would remove."""

    model_config = ConfigDict(from_attributes=True)

    dry_run: bool
    removed: list[CleanupCandidatePublic]
    kept: list[CleanupCandidatePublic]
    freed_bytes: int
    free_bytes_before: int
    free_bytes_after: int
    message: str


class EnsureIn(BaseModel):
    """Models to make available (none: every catalog model)."""

    model_config = ConfigDict(extra="forbid")

    model_ids: list[str] | None = None


class StatesPublic(BaseModel):
    """Each model's state after an action, and the download order."""

    states: dict[str, str]
    order: list[str]


class ModelSpacePublic(BaseModel):
    """What one model takes on disk."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    bytes_on_disk: int
    pinned: bool
    state: str


class StoragePublic(BaseModel):
    """The store's disk and what could be freed."""

    model_config = ConfigDict(from_attributes=True)

    path: str
    total_bytes: int
    free_bytes: int
    low_space_bytes: int
    low: bool
    models: list[ModelSpacePublic]
    unused: list[CleanupCandidatePublic]
    suggestions: CleanupPublic
    message: str


class PinPublic(BaseModel):
    """Whether a model is pinned now, and whether the call changed it."""

    model_id: str
    pinned: bool
    changed: bool


class UpdateCheckPublic(BaseModel):
    """The commit served, the newest upstream, and whether to update."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    current_version: str | None
    latest_version: str | None
    update_available: bool
    skipped: bool
    checked_at: float
    message: str


class UpdateResultPublic(BaseModel):
    """What an update or a rollback did."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    success: bool
    state: str
    current_version: str | None
    previous_version: str | None
    message: str
    bytes_fetched: int


class UpdateAccepted(BaseModel):
    """An update started in the background."""

    model_id: str
    status_url: str


class UpdatePolicyIn(BaseModel):
    """A model's own update policy (null: back to the default)."""

    model_config = ConfigDict(extra="forbid")

    policy: Literal["notify", "ask", "auto"] | None


class UpdateRecordPublic(BaseModel):
    """What modelward knows about a model's versions."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    latest: str | None
    checked_at: float | None
    state: str
    current: str | None
    previous: str | None
    applying: str | None
    applied_at: float | None
    successes: int
    failures: int
    skipped: str | None
    policy: str | None
    reason: str | None


class DailyUsagePublic(BaseModel):
    """One calendar day's use."""

    model_config = ConfigDict(from_attributes=True)

    day: date
    uses: int
    successes: int
    average_generation_time: float | None


class TimePeriodPublic(BaseModel):
    """[start, end) in epoch seconds."""

    model_config = ConfigDict(from_attributes=True)

    start: float
    end: float
    model_id: str | None


class UsageStatisticsPublic(BaseModel):
    """The seed's UsageStatistics of one model (or "all") over a period."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    total_uses: int
    uses_per_day: float
    average_generation_time: float
    success_rate: float
    last_30_days_usage: list[DailyUsagePublic]
    peak_usage_hours: list[int]
    last_used: float | None


class PerformanceFindingPublic(BaseModel):
    """A performance problem that goes with how a model is used, and what to try."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    kind: str
    message: str
    suggestion: str
    slowdown: float
    samples: int


class UsageReportPublic(BaseModel):
    """Usage over a period: per model, totals, findings and what to preload."""

    model_config = ConfigDict(from_attributes=True)

    generated_at: float
    period: TimePeriodPublic
    total_uses: int
    models: list[UsageStatisticsPublic]
    peak_usage_hours: list[int]
    findings: list[PerformanceFindingPublic]
    preload: list[str]


class AdoptIn(BaseModel):
    """A folder on the service's machine that holds a model's files."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=4096)
    mode: Literal["link", "move"] = "link"


class AdoptedFilePublic(BaseModel):
    """One file of the model and what adopting did with it."""

    model_config = ConfigDict(from_attributes=True)

    path: str
    size_bytes: int
    outcome: str
    detail: str


class AdoptReportPublic(BaseModel):
    """What adopting a folder did, file by file, and what is left to fetch."""

    model_id: str
    folder: str
    mode: str
    files: list[AdoptedFilePublic]
    adopted_bytes: int
    to_fetch: list[str]
    complete: bool


class PrunePublic(BaseModel):
    """What removing a model's previous version freed."""

    model_id: str
    freed_bytes: int


class SettingsReadOnly(BaseModel):
    """Facts that come from the environment and are not changed here."""

    cache_dir: str
    home: str
    endpoint: str
    version: str


class SettingsPublic(BaseModel):
    """The behaviour a person may change while modelward runs, and the fixed facts."""

    automation: Literal["off", "ask", "auto"]
    health_check_interval_s: float
    health_check_level: Literal["quick", "structural", "scrub", "full"]
    health_check_at_start: bool
    update_policy: Literal["notify", "ask", "auto"]
    update_check_interval_s: float
    low_space_bytes: int
    unused_after_days: float
    keep_previous_successes: int
    rollback_after_failures: int
    vram_gb: float | None
    read_only: SettingsReadOnly


class SettingsPatch(BaseModel):
    """Settings to change (any subset); ``vram_gb`` null means "read it from the GPU"."""

    model_config = ConfigDict(extra="forbid")

    automation: Literal["off", "ask", "auto"] | None = None
    health_check_interval_s: float | None = Field(default=None, ge=0)
    health_check_level: Literal["quick", "structural", "scrub", "full"] | None = None
    health_check_at_start: bool | None = None
    update_policy: Literal["notify", "ask", "auto"] | None = None
    update_check_interval_s: float | None = Field(default=None, ge=0)
    low_space_bytes: int | None = Field(default=None, ge=0)
    unused_after_days: float | None = Field(default=None, gt=0)
    keep_previous_successes: int | None = Field(default=None, ge=0)
    rollback_after_failures: int | None = Field(default=None, ge=1)
    vram_gb: float | None = Field(default=None, gt=0)
