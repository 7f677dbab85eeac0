"""Routes for usage analytics: the report, one model's figures, preload suggestions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from modelward.analytics import TimePeriod
from modelward.api.deps import RuntimeDep
from modelward.api.guard import GuardedRoute
from modelward.api.schemas import (
    OperationsReportPublic,
    UsageReportPublic,
    UsageStatisticsPublic,
)

router = APIRouter(tags=["analytics"], route_class=GuardedRoute)
Days = Annotated[int, Query(ge=1, le=3650, description="How many days back.")]


@router.get("/analytics", response_model=UsageReportPublic)
async def report(runtime: RuntimeDep, days: Days = 30) -> UsageReportPublic:
    """Usage of the last ``days``: each model's figures, totals, performance findings
    (slowdowns that go with concurrent load, an update or an hour of day) and preload."""
    return UsageReportPublic.model_validate(await runtime.analytics.generate_usage_report(days))


@router.get("/analytics/operations", response_model=OperationsReportPublic)
async def operations(runtime: RuntimeDep, days: Days = 30) -> OperationsReportPublic:
    """Operations over the last ``days``: download success rate and retries per model, the
    health trend (checks and issues per day) and fallback usage (each strategy, each
    alternative that ran a job)."""
    report = await runtime.operations.report(TimePeriod.last_days(days))
    return OperationsReportPublic.model_validate(report)


@router.get("/models/{model_id}/usage", response_model=UsageStatisticsPublic)
async def usage(model_id: str, runtime: RuntimeDep, days: Days = 30) -> UsageStatisticsPublic:
    """One model's figures over the last ``days``."""
    runtime.catalog.get(model_id)
    period = TimePeriod.last_days(days, model_id=model_id)
    return UsageStatisticsPublic.model_validate(
        await runtime.analytics.get_usage_statistics(period)
    )


@router.get("/analytics/preload", response_model=list[str])
async def preload(runtime: RuntimeDep) -> list[str]:
    """Models likely to be used in the next two hours, most likely first."""
    return await runtime.analytics.suggest_preload_models()
