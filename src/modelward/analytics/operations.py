"""Operations figures a person wants without Prometheus: download success rate and retries
per model, the health trend (checks and issues per day), and fallback usage (how often each
strategy and each alternative served a job).

Download outcomes and fallback decisions are recorded from the event bus into the
``download_outcomes`` and ``fallback_decisions`` tables; the health trend reads the
``health_checks`` table the health monitor already keeps.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from modelward.analytics.usage import TimePeriod
from modelward.db import Database, download_outcomes, fallback_decisions, health_checks
from modelward.errors import InsufficientSpaceError
from modelward.events import Event, EventBus, EventType

logger = logging.getLogger(__name__)

_ENDED = ("completed", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class DownloadFigures:
    """How one model's download jobs ended over a period."""

    model_id: str
    jobs: int
    completed: int
    failed: int
    cancelled: int
    success_rate: float | None
    """Completed over completed plus failed (cancelled jobs say nothing); None without either."""
    retries: int
    retries_per_job: float
    failure_codes: dict[str, int]
    """How many failed jobs ended with each error code."""


@dataclass(frozen=True, slots=True)
class HealthDay:
    """The integrity checks of one local calendar day (structural level and deeper)."""

    day: datetime.date
    checks: int
    unhealthy: int
    issues: int


@dataclass(frozen=True, slots=True)
class StrategyUse:
    """How many jobs got one strategy."""

    strategy: str
    count: int


@dataclass(frozen=True, slots=True)
class AlternativeUse:
    """How many jobs asking for ``requested_model`` ran on ``used_model`` instead."""

    requested_model: str
    used_model: str
    count: int


@dataclass(frozen=True, slots=True)
class OperationsReport:
    """Downloads, health trend and fallback usage over a period."""

    period: TimePeriod
    downloads: list[DownloadFigures]
    health_trend: list[HealthDay]
    strategies: list[StrategyUse]
    alternatives: list[AlternativeUse]


class OperationsLog:
    """Records download outcomes and fallback decisions from the bus and reports them.

    Rows are written in a worker thread (the bus delivers on the event loop); ``flush``
    waits for the writes in flight, so a report right after an event includes it."""

    def __init__(
        self,
        db: Database,
        bus: EventBus | None = None,
        enabled: Callable[[], bool] = lambda: True,
    ) -> None:
        self._db = db
        self._enabled = enabled
        self._pending: set[asyncio.Future[None]] = set()
        self._unsubscribe = bus.subscribe(self.on_event) if bus is not None else None

    def on_event(self, event: Event) -> None:
        """Record a download job's end or a fallback decision."""
        row = _row_of(event)
        if row is None or not self._enabled():
            return
        table, values = row
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._insert(table, values)  # published off the loop: write here
            return
        future = loop.run_in_executor(None, self._insert, table, values)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        """Wait until every recorded event is in the database."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop listening and finish the writes in flight."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.flush()

    async def report(self, period: TimePeriod) -> OperationsReport:
        """The figures of ``period`` (all models)."""
        await self.flush()
        return await asyncio.to_thread(self._report, period)

    def _insert(self, table: Any, values: dict[str, object]) -> None:
        try:
            self._db.write(lambda conn: conn.execute(insert(table).values(**values)))
        except InsufficientSpaceError as full:  # MODELWARD_HOME is full: said, no traceback
            logger.warning("cannot record %s: %s", table.name, full)
        except Exception:
            # Figures must never break a download or a job.
            logger.exception("cannot record %s", table.name)

    def _report(self, period: TimePeriod) -> OperationsReport:
        return self._db.read(lambda conn: self._report_from(conn, period))

    def _report_from(self, conn: Connection, period: TimePeriod) -> OperationsReport:
        downloads = conn.execute(
            select(download_outcomes).where(
                download_outcomes.c.at >= period.start, download_outcomes.c.at < period.end
            )
        ).all()
        checks = conn.execute(
            select(health_checks.c.checked_at, health_checks.c.is_healthy, health_checks.c.issues)
            .where(health_checks.c.checked_at >= period.start)
            .where(health_checks.c.checked_at < period.end)
            .where(self._db.own(health_checks))  # this node's checks, as its status shows
        ).all()
        decisions = conn.execute(
            select(fallback_decisions).where(
                fallback_decisions.c.at >= period.start, fallback_decisions.c.at < period.end
            )
        ).all()
        return OperationsReport(
            period,
            download_figures(downloads),
            health_trend(checks),
            strategy_uses(decisions),
            alternative_uses(decisions),
        )


def _row_of(event: Event) -> tuple[Any, dict[str, object]] | None:
    """The table and row an event is recorded as (None: not recorded)."""
    data = event.data
    if event.type == EventType.DOWNLOAD_STATE:
        # Only a job's end carries elapsed_s (a restart re-announcing an entry does not).
        if "elapsed_s" not in data or data.get("status") not in _ENDED:
            return None
        return download_outcomes, {
            "model_id": event.model_id or "",
            "at": event.at,
            "status": data["status"],
            "error_code": data.get("code"),
            "retries": int(data.get("retries") or 0),
            "bytes_fetched": int(data.get("bytes_fetched") or 0),
            "elapsed_s": float(data.get("elapsed_s") or 0.0),
        }
    if event.type == EventType.FALLBACK_DECIDED:
        return fallback_decisions, {
            "at": event.at,
            "requested_model": str(data.get("requested_model") or event.model_id or ""),
            "strategy": str(data.get("strategy") or "unknown"),
            "used_model": data.get("used_model"),
            "is_mock": bool(data.get("is_mock")),
        }
    return None


def download_figures(rows: Any) -> list[DownloadFigures]:
    """Per model, how its jobs ended (models in id order)."""
    by_model: dict[str, list[Any]] = {}
    for row in rows:
        by_model.setdefault(row.model_id, []).append(row)
    return [_figures(model_id, jobs) for model_id, jobs in sorted(by_model.items())]


def _figures(model_id: str, jobs: list[Any]) -> DownloadFigures:
    ended = Counter(job.status for job in jobs)
    decided = ended["completed"] + ended["failed"]
    retries = sum(job.retries for job in jobs)
    codes = Counter(job.error_code or "unknown" for job in jobs if job.status == "failed")
    return DownloadFigures(
        model_id=model_id,
        jobs=len(jobs),
        completed=ended["completed"],
        failed=ended["failed"],
        cancelled=ended["cancelled"],
        success_rate=ended["completed"] / decided if decided else None,
        retries=retries,
        retries_per_job=retries / len(jobs),
        failure_codes=dict(sorted(codes.items())),
    )


def health_trend(rows: Any) -> list[HealthDay]:
    """One entry per local day that had checks, oldest first."""
    days: dict[datetime.date, list[int]] = {}
    for checked_at, is_healthy, issues in rows:
        day = days.setdefault(datetime.date.fromtimestamp(checked_at), [0, 0, 0])
        day[0] += 1
        day[1] += 0 if is_healthy else 1
        day[2] += len(issues or ())
    return [HealthDay(day, *counts) for day, counts in sorted(days.items())]


def strategy_uses(rows: Any) -> list[StrategyUse]:
    """How many decisions named each strategy, most first."""
    counts = Counter(row.strategy for row in rows)
    return [StrategyUse(s, n) for s, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]


def alternative_uses(rows: Any) -> list[AlternativeUse]:
    """How often each alternative ran a job asked of another model, most first."""
    counts = Counter(
        (row.requested_model, row.used_model)
        for row in rows
        if row.used_model and row.used_model != row.requested_model
    )
    ranked = sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    return [AlternativeUse(req, used, n) for (req, used), n in ranked]
