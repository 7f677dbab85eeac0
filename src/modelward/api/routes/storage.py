"""Routes for the store's disk: usage and warnings, pins, removing one model, adopting a
folder that already holds one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter

from modelward.api.deps import RuntimeDep
from modelward.api.documented import SOURCE, errors
from modelward.api.guard import ADMIN, OPERATE, GuardedRoute
from modelward.api.schemas import (
    AdoptedFilePublic,
    AdoptIn,
    AdoptReportPublic,
    CleanupPublic,
    PinPublic,
    StoragePublic,
)
from modelward.store.adopt import AdoptMode, adopt_folder

router = APIRouter(tags=["storage"], route_class=GuardedRoute)


@router.get("/storage", response_model=StoragePublic)
async def storage(runtime: RuntimeDep) -> StoragePublic:
    """Disk use, per-model sizes, models unused for a while, and a cleanup suggestion."""
    return StoragePublic.model_validate(await runtime.storage.check())


@router.put("/models/{model_id}/pin", response_model=PinPublic, openapi_extra=OPERATE)
async def pin(model_id: str, runtime: RuntimeDep) -> PinPublic:
    """Keep the model locally: cleanup never removes it."""
    changed = await runtime.availability.pin_model(model_id, True)
    return PinPublic(model_id=model_id, pinned=True, changed=changed)


@router.delete("/models/{model_id}/pin", response_model=PinPublic, openapi_extra=OPERATE)
async def unpin(model_id: str, runtime: RuntimeDep) -> PinPublic:
    """Let cleanup consider the model again."""
    changed = await runtime.availability.pin_model(model_id, False)
    return PinPublic(model_id=model_id, pinned=False, changed=changed)


@router.delete(
    "/models/{model_id}", response_model=CleanupPublic, openapi_extra=ADMIN, responses=errors(409)
)
async def remove(model_id: str, runtime: RuntimeDep, dry_run: bool = True) -> CleanupPublic:
    """Remove the model's local files (a dry run unless ``dry_run=false``); refused when
    it is pinned, in use, downloading or waited for."""
    return CleanupPublic.model_validate(
        await runtime.availability.remove_model(model_id, dry_run=dry_run)
    )


@router.post(
    "/models/{model_id}/adopt",
    response_model=AdoptReportPublic,
    openapi_extra=ADMIN,
    responses={**errors(409, 507), **SOURCE},
)
async def adopt(model_id: str, body: AdoptIn, runtime: RuntimeDep) -> AdoptReportPublic:
    """Verify the files of a folder on this machine against the source and bring the good
    ones into the store (hard link or move, never a second copy); a download fetches the
    rest (``POST /models/{id}/download``)."""
    spec = runtime.catalog.get(model_id)
    target = await runtime.downloader.source(model_id).resolve(spec)
    report = await asyncio.to_thread(
        adopt_folder, runtime.manager, target, Path(body.path), AdoptMode(body.mode)
    )
    return AdoptReportPublic(
        model_id=report.model_id,
        folder=report.folder,
        mode=report.mode.value,
        files=[AdoptedFilePublic.model_validate(f) for f in report.files],
        adopted_bytes=report.adopted_bytes,
        to_fetch=report.to_fetch,
        complete=report.complete,
    )
