"""Routes for health: check a model, repair it, report generation performance, the system
health report, and the quarantine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from modelward.api.accepted import audit_end
from modelward.api.actions import route_for
from modelward.api.deps import RuntimeDep
from modelward.api.documented import errors
from modelward.api.guard import ADMIN, OPERATE, GuardedRoute
from modelward.api.schemas import (
    GenerationMetricsIn,
    IntegrityPublic,
    PerformanceHealthPublic,
    PurgePublic,
    QuarantineEntryPublic,
    RepairAccepted,
    RepairPublic,
    SystemHealthReportPublic,
)
from modelward.health import GenerationMetrics, VerifyLevel
from modelward.runtime import Runtime

router = APIRouter(tags=["health"], route_class=GuardedRoute)


@router.post("/models/{model_id}/verify", response_model=IntegrityPublic, openapi_extra=OPERATE)
async def verify(
    model_id: str, runtime: RuntimeDep, level: VerifyLevel = VerifyLevel.STRUCTURAL
) -> IntegrityPublic:
    """Check the model's files at ``level`` (quick, structural or full)."""
    result = await runtime.health.check_model_integrity(model_id, level)
    return IntegrityPublic.model_validate(result)


@router.post(
    "/models/{model_id}/repair",
    response_model=RepairPublic | RepairAccepted,
    openapi_extra=OPERATE,
    responses={202: {"model": RepairAccepted}, **errors(409)},
)
async def repair(
    model_id: str, runtime: RuntimeDep, request: Request, response: Response, wait: bool = True
) -> RepairPublic | RepairAccepted:
    """Fully check the model, quarantine damaged bytes and fetch only the damaged blocks.

    ``wait=false`` answers 202 at once and repairs in the background: the model's status
    says ``repairing`` meanwhile and ``repair.finished`` on the event stream says how it
    ended (a big whole-file repair takes longer than an HTTP client likes to wait).
    """
    if not wait:
        audit_end(request, runtime.health.start_repair(model_id))  # the 202 is not the end
        response.status_code = status.HTTP_202_ACCEPTED
        return RepairAccepted(model_id=model_id, status_url=f"/api/v1/models/{model_id}/status")
    result = await runtime.health.verify_and_repair_model(model_id)
    return RepairPublic.model_validate(result)


@router.get("/quarantine", response_model=list[QuarantineEntryPublic])
async def quarantine_list(runtime: RuntimeDep) -> list[QuarantineEntryPublic]:
    """Files set aside as damaged or unsafe, oldest first."""
    entries = await asyncio.to_thread(runtime.quarantine.entries)
    return [QuarantineEntryPublic.model_validate(e) for e in entries]


@router.delete("/quarantine", response_model=PurgePublic, openapi_extra=ADMIN)
async def quarantine_purge(runtime: RuntimeDep, force: bool = False) -> PurgePublic:
    """Delete quarantined files for good: those whose file is back in the store, verified
    (``force``: every one)."""
    before = len(await asyncio.to_thread(runtime.quarantine.entries))
    freed = await asyncio.to_thread(lambda: runtime.quarantine.purge(force=force))
    kept = len(await asyncio.to_thread(runtime.quarantine.entries))
    return PurgePublic(purged=before - kept, freed_bytes=freed, kept=kept)


@router.get("/health", response_model=SystemHealthReportPublic)
async def health_report(runtime: RuntimeDep) -> SystemHealthReportPublic:
    """Every model's condition now, the overall score, disk usage and what to do next."""
    return await public_report(runtime)


async def public_report(runtime: Runtime) -> SystemHealthReportPublic:
    """The health report as the API answers it (the CLI computes it so with no service)."""
    report = await runtime.health.get_health_report()
    public = SystemHealthReportPublic.model_validate(report)
    for recommendation in public.recommendations:
        recommendation.route = route_for(recommendation.action, recommendation.model_id)
    next_at = runtime.health.next_scheduled_check
    public.next_scheduled_check = datetime.fromtimestamp(next_at, UTC) if next_at else None
    public.automation = runtime.health.policy.automation
    public.features_off = runtime.settings.features_off
    return public


@router.get("/models/{model_id}/checks", response_model=list[IntegrityPublic])
async def check_history(
    model_id: str, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[IntegrityPublic]:
    """The model's latest recorded checks (structural, scrub or full), newest first."""
    runtime.catalog.get(model_id)
    results = await asyncio.to_thread(runtime.health.history.recent, model_id, limit)
    return [IntegrityPublic.model_validate(r) for r in results]


@router.post(
    "/models/{model_id}/performance",
    response_model=PerformanceHealthPublic,
    openapi_extra=OPERATE,
)
async def report_generation(
    model_id: str, metrics: GenerationMetricsIn, runtime: RuntimeDep
) -> PerformanceHealthPublic:
    """Record one generation's outcome; returns the model's performance health."""
    health = await runtime.health.monitor_model_performance(
        model_id, GenerationMetrics(**metrics.model_dump())
    )
    return PerformanceHealthPublic.model_validate(health)


@router.get("/models/{model_id}/performance", response_model=PerformanceHealthPublic)
async def performance(model_id: str, runtime: RuntimeDep) -> PerformanceHealthPublic:
    """The model's recent generations against its own baseline."""
    health = await runtime.health.performance_health(model_id)
    return PerformanceHealthPublic.model_validate(health)
