"""The live event stream (Server-Sent Events)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from modelward.api.deps import RuntimeDep
from modelward.api.guard import GuardedRoute
from modelward.api.stream import StreamTiming, event_frames

router = APIRouter(tags=["events"], route_class=GuardedRoute)

_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A stream of `event: <type>` / `data: <json>` frames; file byte counts "
        "are folded into `download.progress` (at most 4 per second per model).",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get("/events", response_class=StreamingResponse, responses=_SSE_DOC)
async def events(request: Request, runtime: RuntimeDep) -> StreamingResponse:
    """Every progress and state change, live, until the client disconnects."""
    timing: StreamTiming = request.app.state.stream_timing
    return StreamingResponse(
        event_frames(runtime.bus, runtime.downloader.get_download_progress, timing),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
