"""Routes for the download queue: its order, moving a model within it, ordering by demand."""

from __future__ import annotations

from fastapi import APIRouter

from modelward.api.deps import RuntimeDep
from modelward.api.guard import OPERATE, GuardedRoute
from modelward.api.schemas import QueueEntryPublic, QueueMove, QueueOrderPublic, QueuePublic

router = APIRouter(prefix="/queue", tags=["queue"], route_class=GuardedRoute)


@router.get("", response_model=QueuePublic)
async def get_queue(runtime: RuntimeDep) -> QueuePublic:
    """Every queued or running download, in the order connections are given out, with the
    state and bytes ``/models/{id}/download`` reports for it."""
    data = []
    for entry in await runtime.downloader.queue_entries():
        progress = await runtime.downloader.get_download_progress(entry.model_id)
        data.append(
            QueueEntryPublic(
                model_id=entry.model_id,
                priority=entry.priority,
                position=entry.position,
                status=progress.status,
                downloaded_bytes=progress.downloaded_bytes,
                total_bytes=progress.total_bytes,
                progress_percent=progress.progress_percent,
            )
        )
    return QueuePublic(data=data, count=len(data))


@router.post("/{model_id}/move", response_model=QueueOrderPublic, openapi_extra=OPERATE)
async def move(model_id: str, body: QueueMove, runtime: RuntimeDep) -> QueueOrderPublic:
    """Put the model at ``position`` (1 = front); returns the new order."""
    return QueueOrderPublic(order=await runtime.downloader.move_in_queue(model_id, body.position))


@router.post("/prioritize", response_model=QueueOrderPublic, openapi_extra=OPERATE)
async def prioritize(runtime: RuntimeDep) -> QueueOrderPublic:
    """Order the queue by demand: models jobs wait for, then the most used, then the one
    nearest to done; returns the order of every model not yet available."""
    return QueueOrderPublic(order=await runtime.availability.prioritize_model_downloads())
