"""Check results kept in the database, so every process sees the latest ones with their age.

Per node: a node sharing the database reads and prunes only its own results."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from modelward.db import Database, health_checks
from modelward.health.checker import IntegrityResult, VerifyLevel
from modelward.health.issues import IntegrityIssue, IssueKind, IssueList

KEEP_PER_MODEL = 200
"""Results kept per model; older ones are dropped (the latest is what matters)."""


class HealthHistory:
    """Saves and loads integrity results (blocking; async callers use a worker thread)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, result: IntegrityResult) -> None:
        """Keep ``result`` and drop the model's oldest results beyond ``KEEP_PER_MODEL``."""
        self._db.write(lambda conn: _save(conn, self._db, result))

    def latest(self, *, deep_only: bool = False) -> dict[str, IntegrityResult]:
        """The newest result per model (``deep_only``: ignoring quick checks)."""
        newest = (
            select(func.max(health_checks.c.id))
            .where(self._db.own(health_checks))
            .group_by(health_checks.c.model_id)
        )
        if deep_only:
            newest = newest.where(health_checks.c.level != VerifyLevel.QUICK.value)
        query = select(health_checks).where(health_checks.c.id.in_(newest))
        rows = self._db.read(lambda conn: conn.execute(query).all())
        return {row.model_id: _result(row._mapping) for row in rows}

    def latest_for(self, model_id: str, *, deep_only: bool = True) -> IntegrityResult | None:
        """The model's newest result (``deep_only``: ignoring quick checks)."""
        query = select(health_checks).where(
            health_checks.c.model_id == model_id, self._db.own(health_checks)
        )
        if deep_only:
            query = query.where(health_checks.c.level != VerifyLevel.QUICK.value)
        query = query.order_by(health_checks.c.id.desc()).limit(1)
        row = self._db.read(lambda conn: conn.execute(query).first())
        return _result(row._mapping) if row is not None else None

    def recent(self, model_id: str, limit: int = 20) -> list[IntegrityResult]:
        """The model's newest results, newest first."""
        query = (
            select(health_checks)
            .where(health_checks.c.model_id == model_id, self._db.own(health_checks))
            .order_by(health_checks.c.id.desc())
            .limit(limit)
        )
        rows = self._db.read(lambda conn: conn.execute(query).all())
        return [_result(row._mapping) for row in rows]


def _save(conn: Connection, db: Database, result: IntegrityResult) -> None:
    """Insert ``result`` as this node's and drop its results of the model beyond the newest
    ``KEEP_PER_MODEL`` (another node's stay)."""
    conn.execute(insert(health_checks).values(node=db.node, **_row(result)))
    mine = (health_checks.c.model_id == result.model_id, db.own(health_checks))
    cutoff = conn.execute(
        select(health_checks.c.id)
        .where(*mine)
        .order_by(health_checks.c.id.desc())
        .offset(KEEP_PER_MODEL)
        .limit(1)
    ).scalar()
    if cutoff is not None:
        conn.execute(delete(health_checks).where(*mine, health_checks.c.id <= cutoff))


def _row(result: IntegrityResult) -> dict[str, Any]:
    return {
        "model_id": result.model_id,
        "level": result.level.value,
        "is_healthy": result.is_healthy,
        # The column predates "nothing checked"; files_checked 0 says it when read back.
        "integrity_score": result.integrity_score or 0.0,
        "issues": [
            {"path": i.path, "kind": i.kind.value, "detail": i.detail} for i in result.issues
        ],
        "checked_at": result.checked_at,
        "files_checked": result.files_checked,
        "bytes_hashed": result.bytes_hashed,
    }


def _result(row: Any) -> IntegrityResult:
    issues = IssueList(
        IntegrityIssue(str(i["path"]), IssueKind(i["kind"]), str(i["detail"]))
        for i in row["issues"]
        if i.get("kind") in IssueKind._value2member_map_
    )
    return IntegrityResult(
        model_id=row["model_id"],
        level=VerifyLevel(row["level"]),
        is_healthy=bool(row["is_healthy"]),
        integrity_score=float(row["integrity_score"]) if row["files_checked"] else None,
        issues=issues,
        checked_at=float(row["checked_at"]),
        files_checked=int(row["files_checked"]),
        bytes_hashed=int(row["bytes_hashed"]),
    )
