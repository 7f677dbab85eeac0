"""What each generation job used, as the integration bridge reports it, and the periods the
figures are taken over; the jobs are kept in the database's ``usage_events`` table."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from modelward.db import Database, generations, usage_events
from modelward.errors import ConfigError

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class UsageData:
    """One generation job, as the integration bridge reports it."""

    duration_s: float
    success: bool
    at: float = field(default_factory=time.time)
    requested_model: str | None = None
    """The model the job asked for, when it ran on an alternative."""
    quality_issue: bool = False
    commit: str | None = None
    """The model's snapshot commit when the job ran (to tell versions apart after updates)."""
    concurrent_loaded: int = 1
    """How many models were loaded in this process during the job, this one included."""
    error: str | None = None

    def __post_init__(self) -> None:
        if self.duration_s < 0:
            raise ConfigError(f"a job cannot take {self.duration_s} s", hint="Report >= 0 s.")
        if self.concurrent_loaded < 1:
            raise ConfigError(
                f"{self.concurrent_loaded} models loaded during a job",
                hint="Count the job's own model: at least 1.",
            )


@dataclass(frozen=True, slots=True)
class TimePeriod:
    """[start, end) in epoch seconds, of one model or (``model_id`` None) all of them."""

    start: float
    end: float
    model_id: str | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ConfigError(
                f"a period must end after it starts ({self.start} .. {self.end})",
                hint="Give an end later than the start.",
            )

    @classmethod
    def last_days(
        cls, days: int, model_id: str | None = None, now: float | None = None
    ) -> TimePeriod:
        """The ``days`` times 24 hours up to ``now`` (default: the present)."""
        if days < 1:
            raise ConfigError(f"a period of {days} days", hint="Ask for at least 1 day.")
        end = time.time() if now is None else now
        return cls(start=end - days * DAY_S, end=end, model_id=model_id)

    @property
    def days(self) -> float:
        """The period's length in days."""
        return (self.end - self.start) / DAY_S


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One recorded job: the model it ran on and what it used."""

    model_id: str
    usage: UsageData


class UsageLog:
    """Usage events in the database (blocking; run in a worker thread)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def backfill_from_generations(self) -> int:
        """Once, when no usage is recorded yet: take the jobs the generation log holds
        (recorded before usage events existed), so a model used yesterday does not read as
        never used. Returns how many were taken."""
        # Serialized: two services starting at once would otherwise both see no usage yet.
        return self._db.write(lambda conn: _backfill(conn, self._db), serialize="usage-backfill")

    def add(self, model_id: str, usage: UsageData) -> None:
        """Keep one job."""
        row = insert(usage_events).values(
            node=self._db.node,
            model_id=model_id,
            requested_model=usage.requested_model,
            at=usage.at,
            duration_s=usage.duration_s,
            success=usage.success,
            quality_issue=usage.quality_issue,
            commit=usage.commit,
            concurrent_loaded=usage.concurrent_loaded,
            error=(usage.error or None) and usage.error[:500],
        )
        self._db.write(lambda conn: conn.execute(row))

    def events(self, start: float, end: float, model_id: str | None = None) -> list[UsageEvent]:
        """Jobs in [start, end) (of ``model_id``, or all), oldest first."""
        query = select(usage_events).where(
            usage_events.c.at >= start, usage_events.c.at < end, self._db.own(usage_events)
        )
        if model_id is not None:
            query = query.where(usage_events.c.model_id == model_id)
        query = query.order_by(usage_events.c.at, usage_events.c.id)
        rows = self._db.read(lambda conn: conn.execute(query).all())
        return [_event(row._mapping) for row in rows]

    def last_used(self, before: float, model_id: str | None = None) -> dict[str, float]:
        """Each model's newest job before ``before`` (of ``model_id``, or every model)."""
        query = (
            select(usage_events.c.model_id, func.max(usage_events.c.at))
            .where(usage_events.c.at < before, self._db.own(usage_events))
            .group_by(usage_events.c.model_id)
        )
        if model_id is not None:
            query = query.where(usage_events.c.model_id == model_id)
        return self._db.read(lambda conn: {str(m): float(at) for m, at in conn.execute(query)})


def _backfill(conn: Connection, db: Database) -> int:
    """Copy this node's generation log into usage events when it has none recorded; each
    row keeps its node (a NULL one, from before nodes, stays every node's)."""
    if conn.execute(
        select(func.count()).select_from(usage_events).where(db.own(usage_events))
    ).scalar():
        return 0
    rows = conn.execute(
        select(
            generations.c.node,
            generations.c.model_id,
            generations.c.at,
            generations.c.generation_time_s,
            generations.c.success,
            generations.c.quality_issue,
            generations.c.error,
        ).where(db.own(generations))
    ).all()
    if rows:
        conn.execute(
            insert(usage_events),
            [
                {
                    "node": r.node,
                    "model_id": r.model_id,
                    "at": r.at,
                    "duration_s": r.generation_time_s,
                    "success": r.success,
                    "quality_issue": r.quality_issue,
                    "concurrent_loaded": 1,
                    "error": r.error,
                }
                for r in rows
            ],
        )
    return len(rows)


def _event(row: Any) -> UsageEvent:
    return UsageEvent(
        model_id=row["model_id"],
        usage=UsageData(
            duration_s=float(row["duration_s"]),
            success=bool(row["success"]),
            at=float(row["at"]),
            requested_model=row["requested_model"],
            quality_issue=bool(row["quality_issue"]),
            commit=row["commit"],
            concurrent_loaded=int(row["concurrent_loaded"]),
            error=row["error"],
        ),
    )
