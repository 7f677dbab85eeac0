"""Routes for catalog models: list, status, download."""

from __future__ import annotations

import asyncio
import dataclasses

from fastapi import APIRouter, Response, status

from modelward.api.deps import RuntimeDep
from modelward.api.documented import errors
from modelward.api.guard import OPERATE, GuardedRoute
from modelward.api.schemas import (
    DownloadAccepted,
    DownloadProgressPublic,
    ModelPublic,
    ModelsPublic,
    ModelStatusesPublic,
    ModelStatusPublic,
    RegisteredModelPublic,
    RepoIn,
)
from modelward.api.shared_read import status_list_json
from modelward.catalog.remembered import RepoRequest

router = APIRouter(prefix="/models", tags=["models"], route_class=GuardedRoute)


@router.get("", response_model=ModelsPublic)
def list_models(runtime: RuntimeDep) -> ModelsPublic:
    """Every model in the catalog."""
    data = [ModelPublic.model_validate(spec) for spec in runtime.catalog]
    return ModelsPublic(data=data, count=len(data))


@router.post(
    "",
    response_model=RegisteredModelPublic,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=OPERATE,
    responses={
        200: {"model": RegisteredModelPublic, "description": "An existing entry."},
        **errors(409),
    },
)
async def register_repo(
    body: RepoIn, runtime: RuntimeDep, response: Response
) -> RegisteredModelPublic:
    """Remember a Hub repo as a catalog entry (id derived from its name), or answer the
    entry that already names it; 201 when a new entry was made."""
    request = RepoRequest.validated(body.repo_id, body.revision, body.include, body.exclude)
    found = await asyncio.to_thread(
        runtime.remembered.remember, runtime.catalog, request, endpoint=runtime.settings.endpoint
    )
    if not found.created:
        response.status_code = status.HTTP_200_OK
    runtime.resolve_in_background([found.spec.id])  # its status learns the size or the error
    entry = ModelPublic.model_validate(found.spec).model_dump()
    return RegisteredModelPublic.model_validate(
        {
            **entry,
            "include": list(found.spec.include),
            "exclude": list(found.spec.exclude),
            "created": found.created,
        }
    )


@router.get("/status", response_model=ModelStatusesPublic)
async def list_statuses(runtime: RuntimeDep) -> Response:
    """Status of every catalog model."""
    # Derived once for the requests waiting at the same moment (each answer is as of a
    # moment after its request arrived), its JSON written once: see api/shared_read.py.
    return Response(await status_list_json(runtime), media_type="application/json")


@router.get("/{model_id}", response_model=ModelPublic)
def get_model(model_id: str, runtime: RuntimeDep) -> ModelPublic:
    """One catalog entry."""
    return ModelPublic.model_validate(runtime.catalog.get(model_id))


@router.get("/{model_id}/status", response_model=ModelStatusPublic)
async def get_status(model_id: str, runtime: RuntimeDep) -> ModelStatusPublic:
    """The model's detailed status."""
    # A read: never asks the hub nor writes a record. A model never resolved here shows the
    # catalog's size until the background resolution (availability/resolution.py) knows.
    result = await runtime.availability.status(model_id)
    return ModelStatusPublic.model_validate(dataclasses.asdict(result))


@router.post(
    "/{model_id}/download",
    response_model=DownloadAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=OPERATE,
)
async def start_download(model_id: str, runtime: RuntimeDep) -> DownloadAccepted:
    """Start (or join) the model's download; progress is at the returned URL."""
    started = await runtime.downloader.start_download(model_id)
    progress = await runtime.downloader.get_download_progress(model_id)
    return DownloadAccepted(
        model_id=model_id,
        status=progress.status,
        joined=not started,
        progress_url=f"/api/v1/models/{model_id}/download",
    )


@router.get("/{model_id}/download", response_model=DownloadProgressPublic)
async def get_download(model_id: str, runtime: RuntimeDep) -> DownloadProgressPublic:
    """Progress of the model's latest download."""
    progress = await runtime.downloader.get_download_progress(model_id)
    return DownloadProgressPublic.model_validate(dataclasses.asdict(progress))
