"""The audit log: every mutation, whoever made it (admin scope)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from modelward.api.deps import RuntimeDep
from modelward.api.guard import ADMIN, GuardedRoute
from modelward.api.schemas import AuditEntryPublic, AuditPublic
from modelward.ops.audit import AuditEntry
from modelward.ops.since import parse_since

router = APIRouter(tags=["audit"], route_class=GuardedRoute)


@router.get("/audit", response_model=AuditPublic, openapi_extra=ADMIN)
async def audit(
    runtime: RuntimeDep,
    model: Annotated[str | None, Query(max_length=128, description="One model's.")] = None,
    action: Annotated[str | None, Query(max_length=64, description="One action's.")] = None,
    since: Annotated[
        str | None,
        Query(max_length=64, description="ISO time, epoch seconds, or a span: 30m, 2d, 1w."),
    ] = None,
    node: Annotated[
        str | None, Query(max_length=64, description="One node's (default: every node's).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPublic:
    """Recorded mutations of every node sharing the database, newest first: who did what to
    which model, on which node, and how it ended."""
    entries = await runtime.audit.aquery(
        model_id=model,
        action=action,
        since=parse_since(since) if since else None,
        node=node,
        limit=limit,
    )
    data = [public_entry(e) for e in entries]
    return AuditPublic(data=data, count=len(data))


def public_entry(entry: AuditEntry) -> AuditEntryPublic:
    """One record as the API answers it (the CLI shows the same without a service)."""
    return AuditEntryPublic(
        id=entry.id,
        at=datetime.fromtimestamp(entry.at, UTC),
        actor=entry.actor,
        action=entry.action,
        outcome=entry.outcome,
        model_id=entry.model_id,
        params=entry.params,
        token=entry.token,
        status=entry.status,
        error_code=entry.error_code,
        node=entry.node,
    )
