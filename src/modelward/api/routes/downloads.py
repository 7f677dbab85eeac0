"""Routes that steer a model's download: pause, resume, cancel, priority."""

from __future__ import annotations

from fastapi import APIRouter

from modelward.api.deps import RuntimeDep
from modelward.api.guard import OPERATE, GuardedRoute
from modelward.api.schemas import (
    CancelPublic,
    DownloadControlPublic,
    PriorityPublic,
    PriorityUpdate,
)

router = APIRouter(prefix="/models", tags=["downloads"], route_class=GuardedRoute)


@router.post("/{model_id}/pause", response_model=DownloadControlPublic, openapi_extra=OPERATE)
async def pause(model_id: str, runtime: RuntimeDep) -> DownloadControlPublic:
    """Stop transferring and keep the partial data; ``changed`` is false if nothing ran."""
    changed = await runtime.downloader.pause_download(model_id)
    return DownloadControlPublic(model_id=model_id, action="pause", changed=changed)


@router.post("/{model_id}/resume", response_model=DownloadControlPublic, openapi_extra=OPERATE)
async def resume(model_id: str, runtime: RuntimeDep) -> DownloadControlPublic:
    """Continue from the partial data; ``changed`` is false if it was already running."""
    changed = await runtime.downloader.resume_download(model_id)
    return DownloadControlPublic(model_id=model_id, action="resume", changed=changed)


@router.post("/{model_id}/cancel", response_model=CancelPublic, openapi_extra=OPERATE)
async def cancel(model_id: str, runtime: RuntimeDep) -> CancelPublic:
    """Stop the download and delete its partial data; says how many bytes that freed."""
    return CancelPublic.model_validate(await runtime.downloader.cancel(model_id))


@router.put("/{model_id}/priority", response_model=PriorityPublic, openapi_extra=OPERATE)
async def set_priority(model_id: str, body: PriorityUpdate, runtime: RuntimeDep) -> PriorityPublic:
    """Change how urgently the model is wanted; waiting connections are re-ranked at once."""
    await runtime.downloader.set_priority(model_id, body.priority)
    return PriorityPublic(model_id=model_id, priority=body.priority)
