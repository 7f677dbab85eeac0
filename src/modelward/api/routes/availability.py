"""Routes for availability: alternatives, strategies and waits; demo generation through the
bridge; generation requests waiting for their model."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from modelward.api.deps import RuntimeDep, TokenDep
from modelward.api.schemas import (
    GenerateIn,
    GeneratePublic,
    QueuedRequestPublic,
    QueueResultPublic,
    RequirementsIn,
    StrategyPublic,
    SuggestionPublic,
    WaitPublic,
)
from modelward.availability import (
    DemoGenerator,
    ErrorContext,
    FallbackType,
    GenerationRequest,
    GenerationRequirements,
)

router = APIRouter(tags=["availability"])

WAITING = (FallbackType.QUEUE_AND_WAIT, FallbackType.DOWNLOAD_AND_RETRY)


def _requirements(req: RequirementsIn) -> GenerationRequirements:
    return GenerationRequirements(
        quality=req.quality,
        speed=req.speed,
        inputs=frozenset(req.inputs),
        resolution=req.resolution,
        vram_gb=req.vram_gb,
        max_wait=timedelta(seconds=req.max_wait_s) if req.max_wait_s else None,
    )


def _query_requirements(
    quality: Literal["low", "medium", "high"] = "high",
    speed: Literal["slow", "medium", "fast"] = "medium",
    inputs: Annotated[list[Literal["text", "image"]] | None, Query()] = None,
    resolution: Annotated[str | None, Query(pattern=r"^\d{2,5}x\d{2,5}$")] = None,
    vram_gb: Annotated[float | None, Query(gt=0)] = None,
    max_wait_s: Annotated[float | None, Query(gt=0)] = None,
) -> RequirementsIn:
    return RequirementsIn(
        quality=quality,
        speed=speed,
        inputs=inputs or ["text"],
        resolution=resolution,
        vram_gb=vram_gb,
        max_wait_s=max_wait_s,
    )


QueryRequirements = Annotated[RequirementsIn, Depends(_query_requirements)]


@router.get("/models/{model_id}/alternative", response_model=SuggestionPublic)
async def suggest(model_id: str, runtime: RuntimeDep, req: QueryRequirements) -> SuggestionPublic:
    """The best other model for a job that asked for ``model_id``, and what choosing it
    means (404 ``no-alternative`` says why none can)."""
    suggestion = await runtime.fallback.suggest_alternative_model(model_id, _requirements(req))
    return SuggestionPublic.model_validate(suggestion)


@router.get("/models/{model_id}/strategy", response_model=StrategyPublic)
async def strategy(model_id: str, runtime: RuntimeDep, req: QueryRequirements) -> StrategyPublic:
    """What a job for ``model_id`` should do now, decided from live facts."""
    decided = await runtime.fallback.get_fallback_strategy(
        model_id, ErrorContext(_requirements(req))
    )
    return StrategyPublic.model_validate(decided)


@router.get("/models/{model_id}/wait", response_model=WaitPublic)
async def wait(model_id: str, runtime: RuntimeDep) -> WaitPublic:
    """When ``model_id`` should be ready, with a range."""
    return WaitPublic.model_validate(await runtime.fallback.estimate_wait_time(model_id))


@router.post(
    "/generate",
    response_model=GeneratePublic | QueueResultPublic,
    dependencies=[TokenDep],
    responses={202: {"model": QueueResultPublic}},
)
async def generate(
    body: GenerateIn, runtime: RuntimeDep, response: Response
) -> GeneratePublic | QueueResultPublic:
    """Run a demo job through the bridge: on the model, a ready alternative, or a labelled
    mock; when the model is on its way (or can be fetched) and ``queue`` is set, the job is
    queued (202) and released on ``request.released`` when the model is ready."""
    runtime.catalog.get(body.model_id)
    demo = DemoGenerator(runtime.bridge, runtime.settings.home / "outputs")
    request = GenerationRequest(body.prompt, body.image, dict(body.params))
    outcome = await demo.generate(body.model_id, request, _requirements(body.requirements))
    waiting = outcome.strategy is not None and outcome.strategy.strategy_type in WAITING
    if outcome.output_path is None and waiting and body.queue:
        queued = await runtime.fallback.queue_request_for_downloading_model(
            body.model_id, request, body.ttl_s
        )
        response.status_code = status.HTTP_202_ACCEPTED
        public = QueueResultPublic.model_validate(queued)
        public.strategy = StrategyPublic.model_validate(outcome.strategy)
        return public
    return GeneratePublic.model_validate(dataclasses.asdict(outcome))


@router.get("/requests", response_model=list[QueuedRequestPublic])
async def list_requests(
    runtime: RuntimeDep, model_id: str | None = None
) -> list[QueuedRequestPublic]:
    """Generation requests waiting for their model, oldest first."""
    pending = await runtime.requests.pending(model_id)
    return [QueuedRequestPublic.model_validate(r) for r in pending]


@router.get("/requests/{request_id}", response_model=QueuedRequestPublic)
async def get_request(request_id: str, runtime: RuntimeDep) -> QueuedRequestPublic:
    """One request: queued (with its position), released, expired or cancelled."""
    return QueuedRequestPublic.model_validate(await runtime.requests.get(request_id))


@router.delete(
    "/requests/{request_id}", response_model=QueuedRequestPublic, dependencies=[TokenDep]
)
async def cancel_request(request_id: str, runtime: RuntimeDep) -> QueuedRequestPublic:
    """Withdraw a queued request."""
    return QueuedRequestPublic.model_validate(await runtime.requests.cancel(request_id))
