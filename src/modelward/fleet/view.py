"""What the fleet looks like now, from the node rows: which node has which model at which
commit, which are behind, unhealthy or offline (pure: no I/O).

A node is offline when its last heartbeat is older than three beats. A node that holds a
model is behind when its commit is not the model's newest: the newest commit an update
check on any node knows of, else the commit that nodes adopted last (updates move forward,
so the commit first reported latest is the newest one held anywhere).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from modelward.fleet.records import ActionResult, FleetAction, ModelOnNode, NodeRecord

MISSED_BEATS = 3
"""Heartbeats a node may miss before it shows offline."""
HELD_STATES = frozenset({"available", "corrupted", "repairing", "updating", "verifying"})
"""States in which a node holds a version of the model."""


@dataclass(frozen=True, slots=True)
class NodeView:
    """A node and whether it is heard from."""

    record: NodeRecord
    online: bool
    this_node: bool


@dataclass(frozen=True, slots=True)
class ModelCell:
    """One model on one node, as the fleet view shows it."""

    node: str
    state: str
    commit: str | None
    progress: float | None
    healthy: bool | None
    behind: bool
    offline: bool


@dataclass(frozen=True, slots=True)
class FleetModel:
    """One model across the fleet."""

    model_id: str
    newest_commit: str | None
    cells: tuple[ModelCell, ...]

    @property
    def holders(self) -> list[str]:
        """Nodes holding a version of it."""
        return [c.node for c in self.cells if c.commit is not None]

    @property
    def behind(self) -> list[str]:
        """Nodes holding an older version."""
        return [c.node for c in self.cells if c.behind]

    @property
    def unhealthy(self) -> list[str]:
        """Nodes whose copy a check found damaged (or whose pull failed)."""
        return [c.node for c in self.cells if c.healthy is False]

    @property
    def offline(self) -> list[str]:
        """Nodes not heard from that last reported it."""
        return [c.node for c in self.cells if c.offline and c.commit is not None]


@dataclass(frozen=True, slots=True)
class FleetView:
    """Every node and every model they report."""

    nodes: tuple[NodeView, ...]
    models: tuple[FleetModel, ...]
    this_node: str
    offline_after_s: float
    shared: bool
    """The database is one other nodes can share (False: SQLite, so a fleet of one)."""


def offline_after_s(heartbeat_s: float) -> float:
    """Seconds without a heartbeat after which a node shows offline."""
    return MISSED_BEATS * heartbeat_s


def summarise(
    records: list[NodeRecord], *, now: float, heartbeat_s: float, this_node: str, shared: bool
) -> FleetView:
    """The fleet as ``records`` say it is at ``now``."""
    limit = offline_after_s(heartbeat_s)
    views = tuple(
        NodeView(r, online=now - r.last_seen <= limit, this_node=r.name == this_node)
        for r in records
    )
    model_ids = sorted({m.model_id for r in records for m in r.models})
    models = tuple(_model(model_id, views) for model_id in model_ids)
    return FleetView(views, models, this_node, limit, shared)


def _model(model_id: str, views: tuple[NodeView, ...]) -> FleetModel:
    entries = [(v, m) for v in views for m in v.record.models if m.model_id == model_id]
    held = [m for _, m in entries if m.commit is not None and m.state in HELD_STATES]
    newest = newest_commit(held, [m.latest_commit for _, m in entries if m.latest_commit])
    cells = tuple(_cell(v, m, newest) for v, m in entries)
    return FleetModel(model_id, newest, cells)


def newest_commit(held: list[ModelOnNode], known_latest: list[str]) -> str | None:
    """The commit every holder should be at (see the module)."""
    if known_latest:
        return Counter(known_latest).most_common(1)[0][0]
    first_seen: dict[str, float] = {}
    for m in held:
        assert m.commit is not None
        since = m.commit_since or 0.0
        first_seen[m.commit] = min(since, first_seen.get(m.commit, since))
    if not first_seen:
        return None
    return max(first_seen, key=lambda c: (first_seen[c], c))


def _cell(view: NodeView, model: ModelOnNode, newest: str | None) -> ModelCell:
    holds = model.commit is not None and model.state in HELD_STATES
    return ModelCell(
        node=view.record.name,
        state=model.state,
        commit=model.commit if holds else None,
        progress=model.progress,
        healthy=model.healthy,
        behind=holds and newest is not None and model.commit != newest,
        offline=not view.online,
    )


def with_pending(action: FleetAction, view: FleetView) -> FleetAction:
    """``action`` with a ``pending`` result for each node it is addressed to that has not
    claimed its part yet (every online node, for an action asked of all)."""
    claimed = {r.node for r in action.results}
    if action.targets is not None:
        addressed = list(action.targets)
    else:
        # Nodes started since take no earlier action asked of all (see fleet/node.py).
        addressed = [
            v.record.name
            for v in view.nodes
            if v.online and v.record.started_at <= action.created_at
        ]
    waiting = [ActionResult(n, "pending") for n in addressed if n not in claimed]
    if not waiting:
        return action
    results = sorted((*action.results, *waiting), key=lambda r: r.node)
    return replace(action, results=tuple(results))
