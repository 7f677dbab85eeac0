"""Bodies of update checks, updates, rollbacks and pruning."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
    action: str | None = Field(
        default=None, description="What to do next, as a code (download, update), if anything."
    )
    route: str | None = Field(default=None, description="METHOD /path that does it.")


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
    action: str | None = Field(
        default=None, description="What to do next, as a code (update, prune), if anything."
    )
    route: str | None = Field(default=None, description="METHOD /path that does it.")


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


class PrunePublic(BaseModel):
    """What removing a model's previous version freed."""

    model_id: str
    freed_bytes: int
