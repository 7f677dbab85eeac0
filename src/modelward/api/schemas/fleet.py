"""Bodies of the fleet: its nodes, each model across them, and fleet-wide actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

FleetActionKind = Literal["pull", "update", "verify", "remove"]
NodeName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


class NodeModelPublic(BaseModel):
    """One model on one node, as the node last reported it."""

    model_id: str
    state: str = Field(description="The state the node's status derivation gives.")
    commit: str | None = Field(description="The commit on disk; null: none of it here.")
    latest_commit: str | None = Field(
        default=None, description="The newest commit the node's update check knows of."
    )
    progress: float | None = Field(default=None, description="Percent of its bytes on disk.")
    healthy: bool | None = Field(default=None, description="Null: the node holds no file of it.")
    integrity_score: float | None = None
    size_bytes: int = 0
    error_code: str | None = None


class NodePublic(BaseModel):
    """A node of the fleet."""

    name: str
    address: str | None = Field(description="Where its service answers.")
    version: str = Field(description="Its modelward version.")
    online: bool = Field(description="Heard from within the last three heartbeats.")
    this_node: bool = Field(description="The node answering this request.")
    started_at: datetime
    last_seen: datetime
    free_bytes: int | None = Field(description="Free disk where its cache is.")
    models: list[NodeModelPublic]


class FleetCellPublic(BaseModel):
    """One model on one node, as the fleet compares it."""

    node: str
    state: str
    commit: str | None
    progress: float | None = None
    healthy: bool | None = None
    behind: bool = Field(description="It holds another commit than the newest.")
    offline: bool


class FleetModelPublic(BaseModel):
    """One model across the fleet."""

    model_id: str
    newest_commit: str | None = Field(
        description="The newest commit known: from an update check, else the commit the "
        "nodes adopted last."
    )
    nodes: list[FleetCellPublic]
    holders: list[str] = Field(description="Nodes holding a version of it.")
    behind: list[str] = Field(description="Nodes holding an older version.")
    unhealthy: list[str] = Field(description="Nodes whose copy is damaged or failed.")
    offline: list[str] = Field(description="Nodes holding it that are not heard from.")


class FleetPublic(BaseModel):
    """Every node and every model they report."""

    this_node: str
    shared: bool = Field(
        description="The database is shared (PostgreSQL); false: SQLite, a fleet of one."
    )
    note: str | None = Field(default=None, description="What a fleet of one should know.")
    offline_after_s: float = Field(description="Seconds of silence before a node is offline.")
    nodes: list[NodePublic]
    models: list[FleetModelPublic]


class FleetActionIn(BaseModel):
    """A fleet-wide action to ask."""

    action: FleetActionKind
    model_id: str = Field(min_length=1, max_length=128)
    nodes: list[NodeName] | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Node names; null: every node online now. Update and remove need an "
        "admin token.",
    )


class FleetActionResultPublic(BaseModel):
    """One node's part of a fleet action."""

    node: str
    state: Literal["pending", "running", "completed", "failed"]
    message: str | None = None
    error_code: str | None = None
    updated_at: datetime | None = None


class FleetActionPublic(BaseModel):
    """A fleet action and each node's part so far."""

    id: str
    action: FleetActionKind
    model_id: str
    nodes: list[str] | None = Field(description="The nodes named; null: every node.")
    actor: str = Field(description="Who asked.")
    origin: str = Field(description="The node it was asked on.")
    created_at: datetime
    results: list[FleetActionResultPublic]


class FleetActionsPublic(BaseModel):
    """Recent fleet actions, newest first."""

    data: list[FleetActionPublic]
    count: int
