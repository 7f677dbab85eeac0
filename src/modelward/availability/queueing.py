"""The seed's request and queue answers: what an app wants generated, and where it waits.

:meth:`IntelligentFallbackManager.queue_request_for_downloading_model` decides; the answers
it gives are built here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelward.availability.requests import QueuedRequest
from modelward.availability.wait import EstimatedWaitTime, ready


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """The seed's GenerationRequest: what an app wants generated (kept as given)."""

    prompt: str = ""
    image: str | None = None
    """Path or URL of the input image, for image-to-video."""
    params: dict[str, Any] = field(default_factory=dict)
    """Anything else the app needs back (resolution, frames, steps, seed)."""


@dataclass(frozen=True, slots=True)
class QueueResult:
    """The seed's QueueResult: where a request waits, and for how long."""

    success: bool
    request_id: str | None
    model_id: str
    state: str
    """queued, released (the model is ready: run it), or refused."""
    position: int | None
    expires_at: float | None
    estimated_wait: EstimatedWaitTime | None
    message: str


def refused_paused(model_id: str) -> QueueResult:
    """A paused model's download waits for its owner: the request is not kept."""
    return QueueResult(
        success=False,
        request_id=None,
        model_id=model_id,
        state="refused",
        position=None,
        expires_at=None,
        estimated_wait=None,
        message=f"{model_id} is paused: resume it, then queue again",
    )


def released(queued: QueuedRequest) -> QueueResult:
    """The model is ready and ``queued`` released: run the job now."""
    return QueueResult(
        success=True,
        request_id=queued.request_id,
        model_id=queued.model_id,
        state=queued.state.value,
        position=None,
        expires_at=queued.expires_at,
        estimated_wait=ready(queued.model_id),
        message=f"{queued.model_id} is ready: run it now",
    )


def waiting(queued: QueuedRequest, wait: EstimatedWaitTime) -> QueueResult:
    """``queued`` waits for its model, about ``wait``."""
    return QueueResult(
        success=True,
        request_id=queued.request_id,
        model_id=queued.model_id,
        state=queued.state.value,
        position=queued.position,
        expires_at=queued.expires_at,
        estimated_wait=wait,
        message=f"queued for {queued.model_id}: {wait.reason}",
    )
