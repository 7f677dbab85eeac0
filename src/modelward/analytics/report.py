"""The seed's ModelUsageAnalytics: jobs recorded as they finish, figures and reports read
back from the database, preload suggestions and performance findings from the same jobs."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from modelward.analytics.cleanup import CleanupRecommendations, StorageConstraints
from modelward.analytics.correlate import PerformanceFinding, find_correlations, order_findings
from modelward.analytics.preload import HISTORY_DAYS, rank_preload
from modelward.analytics.stats import ALL_MODELS, UsageStatistics, shown_days_start, summarise
from modelward.analytics.usage import DAY_S, TimePeriod, UsageData, UsageEvent, UsageLog
from modelward.catalog import Catalog
from modelward.db import Database
from modelward.transfer.base import catalog_for, default_settings


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Usage over a period: each model's figures, totals, findings and what to preload."""

    generated_at: float
    period: TimePeriod
    total_uses: int
    models: list[UsageStatistics]
    """Models used in the period, most used first, then the catalog's unused ones by id."""
    peak_usage_hours: list[int]
    findings: list[PerformanceFinding]
    preload: list[str]
    note: str | None = None
    """Why the report says less than it could (usage analytics switched off)."""


ANALYTICS_OFF = (
    "usage analytics is switched off: new jobs are not recorded and nothing is "
    "recommended from usage"
)


@dataclass(frozen=True, slots=True)
class _Window:
    """What the statistics of a period are computed from (one read)."""

    events: list[UsageEvent]
    """The period's jobs and those of the 30 shown days."""
    last_used: dict[str, float]


class ModelUsageAnalytics:
    """How models are used, from the jobs the integration bridge reports."""

    def __init__(
        self, db: Database | None = None, model_ids: Callable[[], list[str]] | None = None
    ) -> None:
        """``ModelUsageAnalytics()`` as the seed builds it: the database and catalog the
        settings name, unless given."""
        if db is None or model_ids is None:
            settings = default_settings()
            db = db or Database(settings.effective_database_url, node=settings.node_name)
            model_ids = model_ids or _ids_of(catalog_for(settings))
        self._log = UsageLog(db)
        self._planner: Callable[[StorageConstraints], Awaitable[CleanupRecommendations]] | None
        self._planner = None
        # The catalog's ids, read at each call (the catalog can change): reports list the
        # unused ones too, and preload skips models the catalog no longer declares.
        self._model_ids = model_ids
        self.enabled = True
        """False (the usage-analytics feature is off): jobs are not recorded and no
        preload is suggested; figures already recorded are still reported."""

    async def track_model_usage(self, model_id: str, usage_data: UsageData) -> None:
        """Record one job of ``model_id`` (nothing while analytics is switched off)."""
        if self.enabled:
            await asyncio.to_thread(self._log.add, model_id, usage_data)

    async def get_usage_statistics(self, time_period: TimePeriod) -> UsageStatistics:
        """Figures of the period's model, or of every model together (``model_id`` "all")
        when the period names none."""
        window = await asyncio.to_thread(self._window, time_period)
        model = time_period.model_id
        last = (
            window.last_used.get(model)
            if model is not None
            else max(window.last_used.values(), default=None)
        )
        return summarise(model or ALL_MODELS, time_period, window.events, last)

    async def statistics_by_model(self, time_period: TimePeriod) -> list[UsageStatistics]:
        """Figures of every model used in the period (only the period's model, when it
        names one), most used first, ties by id."""
        window = await asyncio.to_thread(self._window, time_period)
        return _by_model(time_period, window)

    def attach_cleanup_planner(
        self, planner: Callable[[StorageConstraints], Awaitable[CleanupRecommendations]]
    ) -> None:
        """Let :meth:`recommend_model_cleanup` plan with the store's facts (sizes, pins,
        models in use, queued jobs), which live above analytics."""
        self._planner = planner

    async def recommend_model_cleanup(
        self, storage_constraints: StorageConstraints
    ) -> CleanupRecommendations:
        """Models that could go to meet ``storage_constraints``, least valuable first
        (recency, frequency, size), each with why; a plan, nothing is removed."""
        if self._planner is None:
            raise RuntimeError("attach_cleanup_planner() first")  # wiring bug, not input
        return await self._planner(storage_constraints)

    async def suggest_preload_models(self, now: float | None = None) -> list[str]:
        """Catalog models likely to be used in the next two hours, most likely first
        (none while analytics is switched off)."""
        if not self.enabled:
            return []
        now = time.time() if now is None else now
        events = await asyncio.to_thread(self._log.events, now - HISTORY_DAYS * DAY_S, now)
        return rank_preload(events, now, set(self._model_ids()))

    async def find_performance_correlations(
        self, time_period: TimePeriod
    ) -> list[PerformanceFinding]:
        """Slowdowns that go with concurrent load, an update or an hour of day, in the
        period's jobs; largest first."""
        events = await asyncio.to_thread(
            self._log.events, time_period.start, time_period.end, time_period.model_id
        )
        return order_findings(
            [f for model, jobs in _grouped(events).items() for f in find_correlations(model, jobs)]
        )

    async def generate_usage_report(self, days: int = 30, now: float | None = None) -> UsageReport:
        """Usage of the last ``days``: per model, in total, findings and preload."""
        now = time.time() if now is None else now
        period = TimePeriod.last_days(days, now=now)
        window = await asyncio.to_thread(self._window, period)
        used = _by_model(period, window)
        seen = {s.model_id for s in used}
        unused = [
            summarise(m, dataclasses.replace(period, model_id=m), [], window.last_used.get(m))
            for m in sorted(set(self._model_ids()) - seen)
        ]
        overall = summarise(
            ALL_MODELS, period, window.events, max(window.last_used.values(), default=None)
        )
        return UsageReport(
            generated_at=now,
            period=period,
            total_uses=overall.total_uses,
            models=used + unused,
            peak_usage_hours=overall.peak_usage_hours,
            findings=await self.find_performance_correlations(period),
            preload=await self.suggest_preload_models(now),
            note=None if self.enabled else ANALYTICS_OFF,
        )

    def read_by_model(
        self, period: TimePeriod
    ) -> tuple[dict[str, list[UsageEvent]], dict[str, float]]:
        """The period's jobs (and the shown days') by model, and each model's last use: one
        read for every model's figures (blocking; the status list's)."""
        window = self._window(period)
        return _grouped(window.events), window.last_used

    def _window(self, period: TimePeriod) -> _Window:
        start = min(period.start, shown_days_start(period))
        return _Window(
            events=self._log.events(start, period.end, period.model_id),
            last_used=self._log.last_used(period.end, period.model_id),
        )


def _grouped(events: Sequence[UsageEvent]) -> dict[str, list[UsageEvent]]:
    groups: defaultdict[str, list[UsageEvent]] = defaultdict(list)
    for event in events:
        groups[event.model_id].append(event)
    return groups


def _by_model(period: TimePeriod, window: _Window) -> list[UsageStatistics]:
    stats = [
        summarise(
            model, dataclasses.replace(period, model_id=model), jobs, window.last_used.get(model)
        )
        for model, jobs in _grouped(window.events).items()
    ]
    return sorted((s for s in stats if s.total_uses), key=lambda s: (-s.total_uses, s.model_id))


def _ids_of(catalog: Catalog) -> Callable[[], list[str]]:
    """The catalog's ids, read at each call."""
    return lambda: list(catalog.ids())
