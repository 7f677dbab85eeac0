"""Bodies of disk space, cleanup, pins and adopting folders."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modelward.api.schemas.limits import MAX_BYTES, MAX_DAYS


class CleanupIn(BaseModel):
    """Which unused models a cleanup may remove (a dry run unless ``dry_run`` is false)."""

    model_config = ConfigDict(extra="forbid")

    keep_recent_days: float = Field(default=30.0, ge=0, le=MAX_DAYS)
    target_free_bytes: int | None = Field(default=None, ge=0, le=MAX_BYTES)
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
    used_bytes: int
    used_percent: float = Field(
        description="How full the disk is, as df's Use%: used / (used + free), one decimal; "
        "the same figure as /health's storage_usage_percent."
    )
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
