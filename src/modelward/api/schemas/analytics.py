"""Bodies of usage statistics and reports."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, computed_field

from modelward.actions import Action
from modelward.api.actions import route_for


class DailyUsagePublic(BaseModel):
    """One calendar day's use."""

    model_config = ConfigDict(from_attributes=True)

    day: date
    uses: int
    successes: int
    average_generation_time: float | None


class TimePeriodPublic(BaseModel):
    """[start, end) in epoch seconds."""

    model_config = ConfigDict(from_attributes=True)

    start: float
    end: float
    model_id: str | None


class UsageStatisticsPublic(BaseModel):
    """The seed's UsageStatistics of one model (or "all") over a period."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    total_uses: int
    uses_per_day: float
    average_generation_time: float
    success_rate: float
    last_30_days_usage: list[DailyUsagePublic]
    peak_usage_hours: list[int]
    last_used: float | None


class PerformanceFindingPublic(BaseModel):
    """A performance problem that goes with how a model is used, and what to try."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    kind: str
    message: str
    suggestion: str
    slowdown: float
    samples: int
    action: Action | None = Field(default=None, description="What the suggestion names.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def route(self) -> str | None:
        """``METHOD /path`` that carries out ``action`` (null: none)."""
        return route_for(self.action, self.model_id) if self.action else None


class UsageReportPublic(BaseModel):
    """Usage over a period: per model, totals, findings and what to preload."""

    model_config = ConfigDict(from_attributes=True)

    generated_at: float
    period: TimePeriodPublic
    total_uses: int
    models: list[UsageStatisticsPublic]
    peak_usage_hours: list[int]
    findings: list[PerformanceFindingPublic]
    preload: list[str]
    note: str | None = Field(
        default=None, description="Why the report says less (usage analytics switched off)."
    )


class DownloadFiguresPublic(BaseModel):
    """How one model's download jobs ended over the period."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    jobs: int
    completed: int
    failed: int
    cancelled: int
    success_rate: float | None = Field(
        description="Completed over completed plus failed; null when neither happened."
    )
    retries: int
    retries_per_job: float
    failure_codes: dict[str, int] = Field(description="Failed jobs per error code.")


class HealthDayPublic(BaseModel):
    """The integrity checks (structural level and deeper) of one local calendar day."""

    model_config = ConfigDict(from_attributes=True)

    day: date
    checks: int
    unhealthy: int
    issues: int


class StrategyUsePublic(BaseModel):
    """How many jobs asking for a model got one strategy."""

    model_config = ConfigDict(from_attributes=True)

    strategy: str
    count: int


class AlternativeUsePublic(BaseModel):
    """How many jobs asking for ``requested_model`` ran on ``used_model`` instead."""

    model_config = ConfigDict(from_attributes=True)

    requested_model: str
    used_model: str
    count: int


class OperationsReportPublic(BaseModel):
    """Download success and retries per model, the health trend and fallback usage."""

    model_config = ConfigDict(from_attributes=True)

    period: TimePeriodPublic
    downloads: list[DownloadFiguresPublic]
    health_trend: list[HealthDayPublic]
    strategies: list[StrategyUsePublic]
    alternatives: list[AlternativeUsePublic]
