"""The audit log: one append-only record per mutation, whoever caused it.

The API records what its routes change (actor: the token's name, or ``cli:<user>`` when the
CLI sends the request); work the service starts on its own is recorded where it starts it
(``scheduler``, ``automation``, ``recovery``), and the CLI records what it changes in-process
when no service runs. Parameters are stored with secrets replaced, so the log can be shown
to anyone allowed to read it. The log is the team's: nodes sharing a database read every
node's records, each saying which node recorded it (``node``; None: recorded before nodes).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import RowMapping, delete, insert, select

from modelward.db import Database, audit_log, download_outcomes, fallback_decisions

logger = logging.getLogger(__name__)

Outcome = Literal["ok", "refused", "failed"]
"""ok: the change was made; refused: not allowed or invalid (4xx); failed: it went wrong."""

Actor = str
"""A token's name, ``cli:<os user>``, ``scheduler``, ``automation`` or ``recovery``."""

_SECRET_WORDS = ("token", "secret", "password", "authorization", "key", "credential")
REDACTED = "[redacted]"
_MAX_VALUE_CHARS = 500
MAX_DEPTH = 8
"""Containers nested deeper than this are stored as ``NESTED``: a hostile body must not
make the record (or its writing) recurse without end."""
NESTED = "[nested]"
MAX_PARAMS_CHARS = 8_000
"""The most JSON characters of parameters one record keeps; past it, the first top-level
fields that fit are kept and ``TRUNCATED`` is set."""
TRUNCATED = "[truncated]"
NOT_RECORDED = "[not recorded]"
_KEPT_TABLES = (audit_log, download_outcomes, fallback_decisions)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded mutation."""

    id: int
    at: float
    actor: Actor
    action: str
    outcome: Outcome
    model_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    status: int | None = None
    error_code: str | None = None
    node: str | None = None
    """The node that recorded it."""


class AuditLog:
    """Appends and reads audit records in modelward's database (blocking calls; the
    ``a``-prefixed twins run them in a worker thread)."""

    def __init__(self, db: Database, retention_days: float = 180.0) -> None:
        self.db = db
        self.retention_days = retention_days

    def record(
        self,
        actor: Actor,
        action: str,
        *,
        outcome: Outcome = "ok",
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        token: str | None = None,
        status: int | None = None,
        error_code: str | None = None,
    ) -> None:
        """Append one record; when its parameters cannot be stored, the record without
        them (``params`` says so): a mutation never goes unrecorded for its parameters."""
        values = {
            "at": time.time(),
            "actor": actor[:160],
            "node": self.db.node,
            "token": token[:64] if token else None,
            "action": action[:64],
            "model_id": model_id[:128] if model_id else None,
            "outcome": outcome,
            "status": status,
            "error_code": error_code[:64] if error_code else None,
        }
        try:
            self._insert({**values, "params": bounded(params or {})})
        except Exception:
            logger.exception("cannot store the parameters of an audit record of %s", action)
            self._insert({**values, "params": {TRUNCATED: NOT_RECORDED}})

    def _insert(self, values: dict[str, Any]) -> None:
        self.db.write(lambda conn: conn.execute(insert(audit_log).values(**values)))

    async def arecord(self, actor: Actor, action: str, **details: Any) -> None:
        """``record`` off the event loop."""
        await asyncio.to_thread(lambda: self.record(actor, action, **details))

    def query(
        self,
        *,
        model_id: str | None = None,
        action: str | None = None,
        since: float | None = None,
        node: str | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """The newest records of every node first, filtered by model, action, time and the
        node that recorded them."""
        stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if node:
            stmt = stmt.where(audit_log.c.node == node)
        if model_id:
            stmt = stmt.where(audit_log.c.model_id == model_id)
        if action:
            stmt = stmt.where(audit_log.c.action == action)
        if since is not None:
            stmt = stmt.where(audit_log.c.at >= since)
        return self.db.read(lambda conn: [_entry(row) for row in conn.execute(stmt).mappings()])

    async def aquery(self, **filters: Any) -> list[AuditEntry]:
        """``query`` off the event loop."""
        return await asyncio.to_thread(lambda: self.query(**filters))

    def prune(self, now: float | None = None) -> int:
        """Remove audit records, download outcomes and fallback decisions older than the
        retention; returns how many rows went."""
        cutoff = (now or time.time()) - self.retention_days * 86400
        return self.db.write(
            lambda conn: sum(
                conn.execute(delete(table).where(table.c.at < cutoff)).rowcount
                for table in _KEPT_TABLES
            )
        )

    async def aprune(self) -> int:
        """``prune`` off the event loop."""
        return await asyncio.to_thread(self.prune)


def bounded(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` redacted and cut to ``MAX_PARAMS_CHARS`` of JSON: the first top-level
    fields that fit, and ``TRUNCATED`` set when some did not."""
    clean = redact(params)
    if len(json.dumps(clean)) <= MAX_PARAMS_CHARS:
        return clean
    kept: dict[str, Any] = {TRUNCATED: True}
    size = len(json.dumps(kept))
    for key, value in clean.items():
        size += len(json.dumps({key: value}))
        if size > MAX_PARAMS_CHARS:
            break
        kept[key] = value
    return kept


def redact(params: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """``params`` with every value whose name suggests a secret replaced, long ones cut and
    containers below ``MAX_DEPTH`` levels replaced by ``NESTED``."""
    return {str(k): _clean(str(k), v, depth + 1) for k, v in params.items()}


def _clean(name: str, value: Any, depth: int) -> Any:
    if any(word in name.lower() for word in _SECRET_WORDS) and value is not None:
        return REDACTED
    if isinstance(value, Mapping | list | tuple) and depth >= MAX_DEPTH:
        return NESTED
    if isinstance(value, Mapping):
        return redact(value, depth)
    if isinstance(value, list | tuple):
        return [_clean(name, v, depth + 1) for v in value]
    if isinstance(value, str) and len(value) > _MAX_VALUE_CHARS:
        return value[:_MAX_VALUE_CHARS] + "…"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        outcome=row["outcome"],
        model_id=row["model_id"],
        params=dict(row["params"] or {}),
        token=row["token"],
        status=row["status"],
        error_code=row["error_code"],
        node=row["node"],
    )
