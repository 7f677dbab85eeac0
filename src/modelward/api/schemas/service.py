"""Bodies about the service itself: errors, liveness and settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modelward.api.schemas.limits import (
    MAX_BYTES,
    MAX_COUNT,
    MAX_DAYS,
    MAX_INTERVAL_S,
    MAX_VRAM_GB,
)
from modelward.settings import Settings


class ErrorPublic(BaseModel):
    """Every error the API returns: a stable code, a message and the action to take."""

    code: str
    message: str
    hint: str
    retryable: bool


class HealthzPublic(BaseModel):
    """Liveness of the service."""

    status: str
    version: str
    offline: bool = Field(
        default=False, description="Started with HF_HUB_OFFLINE=1: contacts no source."
    )
    pid: int = Field(description="The service's process id, checked before it is stopped.")
    home: str = Field(description="The MODELWARD_HOME whose downloads this service owns.")
    features_off: list[str] = Field(
        default_factory=list,
        description="Enhancements switched off (settings ``features``); empty when all are on.",
    )


class SettingsReadOnly(BaseModel):
    """Facts that come from the environment and are not changed here."""

    cache_dir: str
    home: str
    endpoint: str
    version: str
    catalog_files: list[str] = Field(
        default_factory=list, description="Catalog files added to the built-in catalog."
    )


def _about(feature: str) -> str:
    described = Settings.model_fields[f"feature_{feature}"].description or feature
    return f"{described} Off: the plain base behaviour."


class FeaturesPublic(BaseModel):
    """Each enhancement, on (true) or off (false: modelward behaves as the plain base
    system for that part)."""

    retries: bool = Field(description=_about("retries"))
    segmented_transfer: bool = Field(description=_about("segmented_transfer"))
    scheduled_health_checks: bool = Field(description=_about("scheduled_health_checks"))
    automatic_repair: bool = Field(description=_about("automatic_repair"))
    alternative_suggestions: bool = Field(description=_about("alternative_suggestions"))
    request_queueing: bool = Field(description=_about("request_queueing"))
    mock_fallback: bool = Field(description=_about("mock_fallback"))
    usage_analytics: bool = Field(description=_about("usage_analytics"))
    update_checks: bool = Field(description=_about("update_checks"))
    cleanup_suggestions: bool = Field(description=_about("cleanup_suggestions"))


class FeaturesPatch(BaseModel):
    """Enhancements to switch on or off (any subset; null or absent: unchanged)."""

    model_config = ConfigDict(extra="forbid")

    retries: bool | None = None
    segmented_transfer: bool | None = None
    scheduled_health_checks: bool | None = None
    automatic_repair: bool | None = None
    alternative_suggestions: bool | None = None
    request_queueing: bool | None = None
    mock_fallback: bool | None = None
    usage_analytics: bool | None = None
    update_checks: bool | None = None
    cleanup_suggestions: bool | None = None


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
    features: FeaturesPublic
    read_only: SettingsReadOnly


class SettingsPatch(BaseModel):
    """Settings to change (any subset); ``vram_gb`` null means "read it from the GPU"."""

    model_config = ConfigDict(extra="forbid")

    automation: Literal["off", "ask", "auto"] | None = None
    health_check_interval_s: float | None = Field(default=None, ge=0, le=MAX_INTERVAL_S)
    health_check_level: Literal["quick", "structural", "scrub", "full"] | None = None
    health_check_at_start: bool | None = None
    update_policy: Literal["notify", "ask", "auto"] | None = None
    update_check_interval_s: float | None = Field(default=None, ge=0, le=MAX_INTERVAL_S)
    low_space_bytes: int | None = Field(default=None, ge=0, le=MAX_BYTES)
    unused_after_days: float | None = Field(default=None, gt=0, le=MAX_DAYS)
    keep_previous_successes: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    rollback_after_failures: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    vram_gb: float | None = Field(default=None, gt=0, le=MAX_VRAM_GB)
    features: FeaturesPatch | None = None
