"""The database and record facts a status shows, read once for every model and kept.

A status shows each model's last deep check, performance score, usage figures and newest
known version. Read per model and per request, that was four database queries and a file
read for each model at every ``/models/status`` (20 clients: 240 queries a second). Here
they are read in one go, for every model, and kept until the database is written (the
engine's ``commit`` event, and the connection's return to its pool after the commit: any
write of this process, so a check, a generation or a usage record shows at the next read),
the update records' folder changes, or :data:`FACTS_TTL_S` passes (writes of another
process to the same database).
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

from modelward.analytics import ModelUsageAnalytics, TimePeriod
from modelward.analytics.stats import summarise
from modelward.health import ModelHealthMonitor
from modelward.health.checker import IntegrityResult
from modelward.health.performance import GenerationMetrics, assess_performance
from modelward.store.look import NotKeptError
from modelward.updates.record import load_record, records_dir

FACTS_TTL_S = 2.0
"""Kept facts are read again after this long (another process may write the database)."""
USAGE_WINDOW_DAYS = 30
"""Usage figures in a status cover the last 30 days."""
_WROTE = "modelward.facts.wrote"
"""Marks a connection that committed, so its return to the pool counts as a write."""


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """One model's facts from the database and the update records."""

    deep_check: IntegrityResult | None
    """The latest deeper-than-stat check saved (this process's newer one is added later)."""
    performance_score: float
    uses_per_day: float
    last_used: float | None
    average_generation_time: float | None
    latest_version: str | None
    """The newest version an update check found (the update record's ``latest``)."""


@dataclass
class _Kept:
    """Every model's facts as of one read."""

    writes: int
    updates_stat: tuple[int, int] | None
    born: float
    deep: dict[str, IntegrityResult]
    with_generations: set[str]
    usage: dict[str, tuple[float, float | None]]
    last_used: dict[str, float]
    latest: dict[str, str | None]
    no_generations: float
    """The performance score of a model with no generation recorded."""
    performance: dict[str, float] = field(default_factory=dict)


class StatusFacts:
    """Kept facts for status reads (blocking methods: call them in a worker thread)."""

    def __init__(
        self, health: ModelHealthMonitor, analytics: ModelUsageAnalytics, engine: Engine
    ) -> None:
        self.health = health
        self.analytics = analytics
        self._home = health.manager.home
        self._records_dir = records_dir(self._home)
        self._writes = 0
        self._kept: _Kept | None = None
        self._lock = threading.Lock()
        event.listen(engine, "commit", self._on_commit)
        event.listen(engine, "checkin", self._on_checkin)

    def _on_commit(self, conn: Any) -> None:
        # Counted now and again once the connection is back in its pool: this event comes
        # just before the commit itself, so a read in between may see the rows before it.
        self._writes += 1
        conn.info[_WROTE] = True

    def _on_checkin(self, dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_WROTE, False):
            self._writes += 1

    def of(self, model_ids: list[str], *, kept_only: bool = False) -> list[ModelFacts]:
        """Each model's facts, kept or read now (blocking; ``kept_only``: raise
        :class:`NotKeptError` rather than read the database, for the event loop)."""
        kept = self._current(kept_only)
        return [self._facts(kept, model_id, kept_only) for model_id in model_ids]

    def _facts(self, kept: _Kept, model_id: str, kept_only: bool) -> ModelFacts:
        per_day, average = kept.usage.get(model_id, (0.0, None))
        return ModelFacts(
            deep_check=kept.deep.get(model_id),
            performance_score=self._performance(model_id, kept, kept_only),
            uses_per_day=per_day,
            last_used=kept.last_used.get(model_id),
            average_generation_time=average,
            latest_version=kept.latest.get(model_id),
        )

    def _current(self, kept_only: bool) -> _Kept:
        # On the event loop, never wait for a worker thread that is reading.
        if not self._lock.acquire(blocking=not kept_only):
            raise NotKeptError
        try:
            kept = self._kept
            if kept is None or not self._still_valid(kept):
                if kept_only:
                    raise NotKeptError
                kept = self._kept = self._read()
            return kept
        finally:
            self._lock.release()

    def _still_valid(self, kept: _Kept) -> bool:
        return (
            kept.writes == self._writes
            and time.monotonic() - kept.born <= FACTS_TTL_S
            and kept.updates_stat == self._updates_stat()
        )

    def _updates_stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._records_dir)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    def _read(self) -> _Kept:
        # Counters first: a write landing during the read makes the next read fresh.
        writes, updates_stat, born = self._writes, self._updates_stat(), time.monotonic()
        period = TimePeriod.last_days(USAGE_WINDOW_DAYS)
        events, last_used = self.analytics.read_by_model(period)
        usage = {}
        for model_id, jobs in events.items():
            stats = summarise(model_id, dataclasses.replace(period, model_id=model_id), jobs, None)
            average = stats.average_generation_time if stats.success_rate > 0 else None
            usage[model_id] = (stats.uses_per_day, average)
        return _Kept(
            writes=writes,
            updates_stat=updates_stat,
            born=born,
            deep=self.health.history.latest(deep_only=True),
            with_generations=set(self.health.generations.models()),
            usage=usage,
            last_used=last_used,
            latest=self._latest_versions(),
            no_generations=self._assess("", []),
        )

    def _latest_versions(self) -> dict[str, str | None]:
        try:
            names = [e.name for e in os.scandir(self._records_dir) if e.is_file()]
        except OSError:
            return {}
        ids = [n.removesuffix(".json") for n in names if n.endswith(".json")]
        return {m: load_record(self._home, m).latest for m in ids}

    def _performance(self, model_id: str, kept: _Kept, kept_only: bool) -> float:
        if model_id not in kept.with_generations:
            return kept.no_generations
        score = kept.performance.get(model_id)
        if score is None:
            if kept_only:
                raise NotKeptError
            limits = self.health.policy.thresholds
            wanted = limits.window + 20 * limits.min_baseline
            history = self.health.generations.history(model_id, wanted)
            score = kept.performance[model_id] = self._assess(model_id, history)
        return score

    def _assess(self, model_id: str, history: list[GenerationMetrics]) -> float:
        """The score the health monitor's ``performance_health`` gives for ``history``."""
        return assess_performance(
            model_id, history, self.health.policy.thresholds
        ).performance_score
