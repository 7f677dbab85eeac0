"""Routes for model updates: check, apply (waiting or in the background), roll back,
and each model's policy."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from fastapi import APIRouter, Request, Response, status

from modelward.api.accepted import audit_end
from modelward.api.actions import route_for
from modelward.api.deps import RuntimeDep
from modelward.api.documented import SOURCE, errors
from modelward.api.guard import ADMIN, OPERATE, GuardedRoute, access
from modelward.api.schemas import (
    PrunePublic,
    UpdateAccepted,
    UpdateCheckPublic,
    UpdatePolicyIn,
    UpdateRecordPublic,
    UpdateResultPublic,
)
from modelward.updates import UpdatePolicy

router = APIRouter(tags=["updates"], route_class=GuardedRoute)
_background: set[asyncio.Task[object]] = set()


@router.get(
    "/models/{model_id}/update",
    response_model=UpdateCheckPublic,
    openapi_extra=OPERATE,
    responses=SOURCE,
)
async def check(model_id: str, runtime: RuntimeDep) -> UpdateCheckPublic:
    """Ask upstream whether a newer version of the model exists."""
    return _routed(
        UpdateCheckPublic.model_validate(await runtime.updater.check_for_update(model_id))
    )


@router.post(
    "/models/{model_id}/update",
    response_model=UpdateResultPublic | UpdateAccepted,
    openapi_extra=access("admin", action="apply-update"),
    responses={202: {"model": UpdateAccepted}, **errors(409, 507), **SOURCE},
)
async def apply(
    model_id: str, runtime: RuntimeDep, request: Request, response: Response, wait: bool = True
) -> UpdateResultPublic | UpdateAccepted:
    """Fetch the newest version beside the served one and switch once it is verified
    (``wait=false``: 202 at once; ``update.applied`` or ``update.rolled_back`` follow)."""
    runtime.catalog.get(model_id)
    if not wait:
        task = asyncio.get_running_loop().create_task(runtime.updater.apply_update(model_id))
        _background.add(task)
        task.add_done_callback(_background.discard)
        audit_end(request, task)  # the 202 is not the end
        response.status_code = status.HTTP_202_ACCEPTED
        return UpdateAccepted(model_id=model_id, status_url=f"/api/v1/models/{model_id}/status")
    return _routed(UpdateResultPublic.model_validate(await runtime.updater.apply_update(model_id)))


@router.post(
    "/models/{model_id}/rollback",
    response_model=UpdateResultPublic,
    openapi_extra=ADMIN,
    responses=errors(409),
)
async def rollback(model_id: str, runtime: RuntimeDep) -> UpdateResultPublic:
    """Serve the previous version again."""
    return _routed(UpdateResultPublic.model_validate(await runtime.updater.rollback(model_id)))


@router.get("/models/{model_id}/versions", response_model=UpdateRecordPublic)
async def versions(model_id: str, runtime: RuntimeDep) -> UpdateRecordPublic:
    """What is known about the model's versions: served, previous, newest, policy."""
    record = await asyncio.to_thread(runtime.updater.record, model_id)
    return UpdateRecordPublic.model_validate(record)


@router.put(
    "/models/{model_id}/update-policy",
    response_model=UpdateRecordPublic,
    openapi_extra=access("admin", action="set-update-policy"),
)
async def set_policy(
    model_id: str, body: UpdatePolicyIn, runtime: RuntimeDep
) -> UpdateRecordPublic:
    """Give the model its own update policy (null: the default)."""
    policy = UpdatePolicy(body.policy) if body.policy else None
    return UpdateRecordPublic.model_validate(await runtime.updater.set_policy(model_id, policy))


@router.delete(
    "/models/{model_id}/versions/previous",
    response_model=PrunePublic,
    responses=errors(409),
    openapi_extra=ADMIN,
)
async def prune(model_id: str, runtime: RuntimeDep) -> PrunePublic:
    """Remove the previous version kept for a rollback, once every file of the served one
    matched its checksum (409 ``prune-refused`` otherwise, with nothing deleted)."""
    freed = await runtime.updater.prune_previous(model_id)
    return PrunePublic(model_id=model_id, freed_bytes=freed)


_Routed = TypeVar("_Routed", UpdateCheckPublic, UpdateResultPublic)


def _routed(public: _Routed) -> _Routed:
    """``public`` with the route of its action."""
    if public.action is not None:
        public.route = route_for(public.action, public.model_id)
    return public
