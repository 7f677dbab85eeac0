"""Routes for the fleet: every node and model (``GET /fleet``), fleet-wide actions asked
(``POST /fleet/actions``) and how each node's part stands (``GET /fleet/actions``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from modelward.api.deps import RuntimeDep
from modelward.api.guard import OPERATE, GuardedRoute, actor_of, authorize
from modelward.api.schemas import (
    FleetActionIn,
    FleetActionPublic,
    FleetActionResultPublic,
    FleetActionsPublic,
    FleetCellPublic,
    FleetModelPublic,
    FleetPublic,
    NodeModelPublic,
    NodePublic,
)
from modelward.fleet import FleetAction, FleetModel, FleetView, NodeView

router = APIRouter(prefix="/fleet", tags=["fleet"], route_class=GuardedRoute)

ADMIN_ACTIONS = frozenset({"update", "remove"})
"""Fleet actions whose one-node routes need admin: asking them of the fleet does too."""
SINGLE_NODE_NOTE = (
    "This service keeps its records in SQLite, which no other node shares: the fleet is "
    "this node. Point every node's MODELWARD_DATABASE_URL at one PostgreSQL for a fleet."
)


@router.get("", response_model=FleetPublic)
async def fleet(runtime: RuntimeDep) -> FleetPublic:
    """Every node (address, version, free disk, last seen, models) and each model across
    them: which node has which commit, which are behind, unhealthy or offline."""
    return public_fleet(await runtime.fleet.view())


@router.post(
    "/actions",
    response_model=FleetActionPublic,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=OPERATE,
)
async def ask_fleet_action(
    body: FleetActionIn, runtime: RuntimeDep, request: Request
) -> FleetActionPublic:
    """Ask every node (``nodes`` null) or the named ones to pull, update, verify or remove
    a model; each node does its own part and records it (``GET /fleet/actions``). Update
    and remove need an admin token, as on one node."""
    if body.action in ADMIN_ACTIONS:
        authorize(request, "admin")
    principal = getattr(request.state, "principal", None)
    asked = await runtime.fleet.ask(
        body.action, body.model_id, body.nodes, actor_of(request, principal)
    )
    return public_action(asked)


@router.get("/actions", response_model=FleetActionsPublic)
async def fleet_actions(
    runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> FleetActionsPublic:
    """The latest fleet actions, newest first, each node's part with its state
    (pending, running, completed, failed) and message."""
    data = [public_action(a) for a in await runtime.fleet.actions(limit)]
    return FleetActionsPublic(data=data, count=len(data))


def public_fleet(view: FleetView) -> FleetPublic:
    """The fleet as the API answers it (the CLI shows the same without a service)."""
    return FleetPublic(
        this_node=view.this_node,
        shared=view.shared,
        note=None if view.shared else SINGLE_NODE_NOTE,
        offline_after_s=view.offline_after_s,
        nodes=[_node(n) for n in view.nodes],
        models=[_model(m) for m in view.models],
    )


def public_action(action: FleetAction) -> FleetActionPublic:
    """One fleet action as the API answers it."""
    return FleetActionPublic(
        id=action.id,
        action=action.action,
        model_id=action.model_id,
        nodes=list(action.targets) if action.targets is not None else None,
        actor=action.actor,
        origin=action.origin,
        created_at=_time(action.created_at),
        results=[
            FleetActionResultPublic(
                node=r.node,
                state=r.state,
                message=r.message,
                error_code=r.error_code,
                updated_at=_time(r.updated_at) if r.updated_at is not None else None,
            )
            for r in action.results
        ],
    )


def _node(view: NodeView) -> NodePublic:
    record = view.record
    return NodePublic(
        name=record.name,
        address=record.address,
        version=record.version,
        online=view.online,
        this_node=view.this_node,
        started_at=_time(record.started_at),
        last_seen=_time(record.last_seen),
        free_bytes=record.free_bytes,
        models=[NodeModelPublic.model_validate(m, from_attributes=True) for m in record.models],
    )


def _model(model: FleetModel) -> FleetModelPublic:
    return FleetModelPublic(
        model_id=model.model_id,
        newest_commit=model.newest_commit,
        nodes=[FleetCellPublic.model_validate(c, from_attributes=True) for c in model.cells],
        holders=model.holders,
        behind=model.behind,
        unhealthy=model.unhealthy,
        offline=model.offline,
    )


def _time(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)
