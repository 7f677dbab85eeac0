"""Routes for availability: alternatives, strategies and waits; demo generation through the
bridge; generation requests waiting for their model."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from modelward.api.deps import RuntimeDep
from modelward.api.documented import errors
from modelward.api.guard import ADMIN, OPERATE, GuardedRoute
from modelward.api.schemas import (
    AdvicePublic,
    CleanupIn,
    CleanupPublic,
    EnsureIn,
    GenerateIn,
    GeneratePublic,
    QueuedRequestPublic,
    QueueResultPublic,
    RecoverIn,
    RecoveryPublic,
    RequirementsIn,
    StatesPublic,
    StrategyPublic,
    SuggestionPublic,
    WaitPublic,
)
from modelward.api.schemas.limits import MAX_VRAM_GB, MAX_WAIT_S
from modelward.availability import (
    DemoGenerator,
    ErrorContext,
    FallbackType,
    GenerationRequest,
    GenerationRequirements,
    JobInputError,
    RetentionPolicy,
)
from modelward.availability.requirements import check_image, job_inputs

router = APIRouter(tags=["availability"], route_class=GuardedRoute)

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
    vram_gb: Annotated[float | None, Query(gt=0, le=MAX_VRAM_GB)] = None,
    max_wait_s: Annotated[float | None, Query(gt=0, le=MAX_WAIT_S)] = None,
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


def _job_requirements(body: GenerateIn) -> GenerationRequirements:
    """The job's requirements, its inputs taken from what it carries (prompt, image)."""
    given = job_inputs(body.prompt, body.image)
    stated = body.requirements
    if "inputs" in stated.model_fields_set and frozenset(stated.inputs) != given:
        raise JobInputError(
            f"requirements.inputs says {' and '.join(sorted(stated.inputs))} but the job "
            f"gives {' and '.join(sorted(given))}",
            hint="Leave requirements.inputs out (the prompt and image say it), or make them agree.",
        )
    return dataclasses.replace(_requirements(stated), inputs=given)


@router.get("/models/{model_id}/alternative", response_model=SuggestionPublic)
async def suggest(model_id: str, runtime: RuntimeDep, req: QueryRequirements) -> SuggestionPublic:
    """The best other model for a job that asked for ``model_id``, and what choosing it
    means (404 ``no-alternative`` says why none can)."""
    suggestion = await runtime.fallback.suggest_alternative_model(model_id, _requirements(req))
    return SuggestionPublic.model_validate(suggestion)


@router.get("/models/{model_id}/advice", response_model=AdvicePublic)
async def advice(model_id: str, runtime: RuntimeDep, req: QueryRequirements) -> AdvicePublic:
    """The whole answer for a job that asks for ``model_id``: whether it fits, what to do
    now (``use_requested`` when it is here and fits), every other model that really takes
    the job with what differs, and every one left out with why."""
    answer = await runtime.fallback.advise(model_id, _requirements(req))
    return AdvicePublic.model_validate(answer)


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
    openapi_extra=OPERATE,
    responses={202: {"model": QueueResultPublic}, **errors(409)},
)
async def generate(
    body: GenerateIn, runtime: RuntimeDep, response: Response
) -> GeneratePublic | QueueResultPublic:
    """Run a demo job through the bridge: on the model, a ready alternative, or a labelled
    mock; when the model is on its way (or can be fetched) and ``queue`` is set, the job is
    queued (202) and released on ``request.released`` when the model is ready. A job
    missing an input its model requires, or naming an image file that is not on the
    service's machine, is refused (422)."""
    runtime.catalog.get(body.model_id)
    requirements = _job_requirements(body)
    image = await asyncio.to_thread(check_image, body.image) if body.image else None
    demo = DemoGenerator(runtime.bridge, runtime.settings.home / "outputs")
    request = GenerationRequest(body.prompt, image, dict(body.params))
    outcome = await demo.generate(body.model_id, request, requirements)
    strategy = outcome.strategy
    # Queued for the requested model only: a strategy naming another model is not a wait.
    waiting = (
        strategy is not None
        and strategy.strategy_type in WAITING
        and strategy.alternative_model is None
    )
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


@router.delete("/requests/{request_id}", response_model=QueuedRequestPublic, openapi_extra=OPERATE)
async def cancel_request(request_id: str, runtime: RuntimeDep) -> QueuedRequestPublic:
    """Withdraw a queued request."""
    return QueuedRequestPublic.model_validate(await runtime.requests.cancel(request_id))


@router.post("/models/{model_id}/recover", response_model=RecoveryPublic, openapi_extra=OPERATE)
async def recover(model_id: str, body: RecoverIn, runtime: RuntimeDep) -> RecoveryPublic:
    """Act on a failure the app met with ``model_id`` (a category, or the facts'): retry,
    resume, repair, fetch what is missing, or say what a person should do."""
    context = ErrorContext(
        _requirements(body.requirements),
        body.category,
        body.error_message,
        body.expected_revision,
    )
    result = await runtime.recovery.handle_model_unavailable(model_id, context)
    return RecoveryPublic.model_validate(result)


@router.post("/cleanup", response_model=CleanupPublic, openapi_extra=ADMIN)
async def cleanup(body: CleanupIn, runtime: RuntimeDep) -> CleanupPublic:
    """Remove models nobody used lately (a dry run unless ``dry_run`` is false); never one
    in use, downloading, kept, or with jobs waiting for it."""
    for model_id in body.keep:
        runtime.catalog.get(model_id)
    policy = RetentionPolicy(
        keep_recent_days=body.keep_recent_days,
        target_free_bytes=body.target_free_bytes,
        keep=frozenset(body.keep),
        dry_run=body.dry_run,
    )
    return CleanupPublic.model_validate(await runtime.availability.cleanup_unused_models(policy))


@router.post("/ensure", response_model=StatesPublic, openapi_extra=OPERATE)
async def ensure(body: EnsureIn, runtime: RuntimeDep) -> StatesPublic:
    """Start what each model needs to become available (downloads, repairs), most wanted
    first; paused downloads stay paused."""
    states = await runtime.availability.ensure_all_models_available(body.model_ids)
    order = await runtime.availability.prioritize_model_downloads()
    return StatesPublic(states={m: s.value for m, s in states.items()}, order=order)
