"""Bodies about the service itself: errors, liveness and settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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


class SettingsReadOnly(BaseModel):
    """Facts that come from the environment and are not changed here."""

    cache_dir: str
    home: str
    endpoint: str
    version: str
    catalog_files: list[str] = Field(
        default_factory=list, description="Catalog files added to the built-in catalog."
    )


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
