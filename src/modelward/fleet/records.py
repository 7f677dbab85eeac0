"""The fleet's rows in the shared database: node records and fleet-wide actions.

Blocking calls (run them in a worker thread). Every node writes only its own ``nodes`` row
and its own ``fleet_action_results`` rows; the result row's primary key (action, node) is
what makes a node's claim of an action unique, whichever nodes poll at the same moment.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from modelward.db import Database, fleet_action_results, fleet_actions, nodes, upsert

ActionKind = Literal["pull", "update", "verify", "remove"]
ACTION_KINDS: tuple[ActionKind, ...] = ("pull", "update", "verify", "remove")
ResultState = Literal["pending", "running", "completed", "failed"]


@dataclass(frozen=True, slots=True)
class ModelOnNode:
    """One model as a node last reported it (from the status derivation)."""

    model_id: str
    state: str
    commit: str | None = None
    """The commit on disk (served or complete), None when the node has none of it."""
    latest_commit: str | None = None
    """The newest commit this node's update check knows of."""
    commit_since: float | None = None
    """When this node first reported ``commit``: the commit adopted last is the newest."""
    progress: float | None = None
    """Percent of the model's bytes on disk."""
    healthy: bool | None = None
    """None when the node holds no file of it."""
    integrity_score: float | None = None
    size_bytes: int = 0
    error_code: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ModelOnNode:
        """A model entry read back from a node row's JSON (unknown keys ignored)."""
        known = {k: v for k, v in row.items() if k in cls.__slots__}
        return cls(**known)


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """One node as its row says: who, where, what it holds, when it was last heard of."""

    name: str
    address: str | None
    version: str
    models: tuple[ModelOnNode, ...]
    free_bytes: int | None
    started_at: float
    last_seen: float


@dataclass(frozen=True, slots=True)
class ActionResult:
    """How one node's part of a fleet action stands."""

    node: str
    state: ResultState
    message: str | None = None
    error_code: str | None = None
    updated_at: float | None = None


@dataclass(frozen=True, slots=True)
class FleetAction:
    """A fleet-wide action as asked, with each node's part so far."""

    id: str
    action: ActionKind
    model_id: str
    targets: tuple[str, ...] | None
    """Node names; None: every node online when it was asked."""
    actor: str
    origin: str
    created_at: float
    results: tuple[ActionResult, ...] = ()


def save_node(db: Database, record: NodeRecord) -> None:
    """Write this node's row (one statement: insert or update)."""
    values = {
        "name": record.name,
        "address": record.address,
        "version": record.version,
        "models": [asdict(m) for m in record.models],
        "free_bytes": record.free_bytes,
        "started_at": record.started_at,
        "last_seen": record.last_seen,
    }
    db.write(lambda conn: upsert(conn, nodes, values, ["name"]))


def load_nodes(db: Database) -> list[NodeRecord]:
    """Every node that ever registered, by name."""
    statement = select(nodes).order_by(nodes.c.name)
    rows = db.read(lambda conn: conn.execute(statement).mappings().all())
    return [
        NodeRecord(
            name=r["name"],
            address=r["address"],
            version=r["version"],
            models=tuple(ModelOnNode.from_row(m) for m in (r["models"] or [])),
            free_bytes=r["free_bytes"],
            started_at=r["started_at"],
            last_seen=r["last_seen"],
        )
        for r in rows
    ]


def add_action(db: Database, action: FleetAction) -> None:
    """Store a newly asked action (the nodes find it at their next poll)."""
    values: dict[str, object] = {
        "id": action.id,
        "action": action.action,
        "model_id": action.model_id,
        "targets": list(action.targets) if action.targets is not None else None,
        "params": {},
        "actor": action.actor[:160],
        "origin": action.origin,
        "created_at": action.created_at,
    }
    db.write(lambda conn: conn.execute(insert(fleet_actions).values(**values)))


def recent_actions(db: Database, limit: int) -> list[FleetAction]:
    """The latest ``limit`` actions, newest first, with every node's result so far."""
    return db.read(lambda conn: _recent_actions(conn, limit))


def _recent_actions(conn: Connection, limit: int) -> list[FleetAction]:
    rows = conn.execute(
        select(fleet_actions).order_by(fleet_actions.c.created_at.desc()).limit(limit)
    ).mappings()
    found = [_action(r) for r in rows]
    ids = [a.id for a in found]
    results = conn.execute(
        select(fleet_action_results)
        .where(fleet_action_results.c.action_id.in_(ids))
        .order_by(fleet_action_results.c.node)
    ).mappings()
    by_action: dict[str, list[ActionResult]] = {}
    for r in results:
        by_action.setdefault(r["action_id"], []).append(
            ActionResult(r["node"], r["state"], r["message"], r["error_code"], r["updated_at"])
        )
    return [replace(a, results=tuple(by_action.get(a.id, []))) for a in found]


def unclaimed_actions(db: Database, node: str, since: float) -> list[FleetAction]:
    """Actions created since ``since`` that ``node`` has no result row for, oldest first
    (whether each is addressed to ``node`` is the caller's to judge)."""
    mine = and_(
        fleet_action_results.c.action_id == fleet_actions.c.id,
        fleet_action_results.c.node == node,
    )
    statement = (
        select(fleet_actions)
        .outerjoin(fleet_action_results, mine)
        .where(fleet_action_results.c.node.is_(None), fleet_actions.c.created_at >= since)
        .order_by(fleet_actions.c.created_at)
    )
    return db.read(lambda conn: [_action(r) for r in conn.execute(statement).mappings()])


def claim(db: Database, action_id: str, node: str) -> bool:
    """Take ``node``'s part of the action (its result row, ``running``); False when the
    row exists already (another poll of this node claimed it first)."""
    values = {
        "action_id": action_id,
        "node": node,
        "state": "running",
        "message": None,
        "error_code": None,
        "updated_at": time.time(),
    }
    # Insert-if-absent, so the claim is one statement whose row count says who won.
    return bool(
        db.write(
            lambda conn: upsert(
                conn, fleet_action_results, values, ["action_id", "node"], replace=False
            )
        )
    )


def finish(db: Database, action_id: str, node: str, result: ActionResult) -> None:
    """Record how ``node``'s part ended (completed or failed, with its message)."""
    row = and_(fleet_action_results.c.action_id == action_id, fleet_action_results.c.node == node)
    values = {
        "state": result.state,
        "message": (result.message or "")[:500] or None,
        "error_code": result.error_code,
        "updated_at": time.time(),
    }
    statement = update(fleet_action_results).where(row).values(**values)
    db.write(lambda conn: conn.execute(statement))


def _action(row: Any) -> FleetAction:
    targets: Sequence[str] | None = row["targets"]
    return FleetAction(
        id=row["id"],
        action=row["action"],
        model_id=row["model_id"],
        targets=tuple(targets) if targets is not None else None,
        actor=row["actor"],
        origin=row["origin"],
        created_at=row["created_at"],
    )
