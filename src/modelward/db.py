"""modelward's database: the download queue, health check results, generation metrics and
generation requests waiting for a model.

SQLite in ``MODELWARD_HOME`` by default, through SQLAlchemy Core with portable SQL so a
shared deployment can point ``database_url`` at PostgreSQL. The store stays the truth about
what is on disk: losing this database loses the queue order and paused marks, never a model.
Calls are blocking; async callers run them in a worker thread.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from modelward.errors import StoreError

logger = logging.getLogger(__name__)

metadata = MetaData()

downloads = Table(
    "downloads",
    metadata,
    Column("model_id", String(128), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("position", Integer, nullable=False),
    Column("max_retries", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)


health_checks = Table(
    "health_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", String(128), nullable=False, index=True),
    Column("level", String(16), nullable=False),
    Column("is_healthy", Boolean, nullable=False),
    Column("integrity_score", Float, nullable=False),
    Column("issues", JSON, nullable=False),
    Column("checked_at", Float, nullable=False, index=True),
    Column("files_checked", Integer, nullable=False),
    Column("bytes_hashed", Integer, nullable=False),
)

generations = Table(
    "generations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", String(128), nullable=False, index=True),
    Column("at", Float, nullable=False, index=True),
    Column("generation_time_s", Float, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("quality_issue", Boolean, nullable=False),
    Column("error", String(500)),
    Column("width", Integer),
    Column("height", Integer),
    Column("num_frames", Integer),
    Column("steps", Integer),
)


generation_requests = Table(
    "generation_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model_id", String(128), nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)


@dataclass(frozen=True, slots=True)
class DownloadRow:
    """One model's place in the download queue, as stored."""

    model_id: str
    state: str
    priority: str
    position: int
    max_retries: int


def sqlite_url(path: Path) -> str:
    """The database URL of a SQLite file."""
    return f"sqlite:///{path}"


class Database:
    """The connection to modelward's database; tables are created on first use."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self._engine: Engine = create_engine(url)
        if url.startswith("sqlite"):
            event.listen(self._engine, "connect", _sqlite_pragmas)
        try:
            metadata.create_all(self._engine)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the database {url}: {exc}",
                hint="Check MODELWARD_HOME is writable; a damaged database file can be "
                "deleted (the queue order, paused marks and check history are lost, "
                "never a model).",
            ) from exc

    def save_download(self, row: DownloadRow) -> None:
        """Insert or replace one queue entry."""
        values = {
            "state": row.state,
            "priority": row.priority,
            "position": row.position,
            "max_retries": row.max_retries,
            "updated_at": time.time(),
        }
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(downloads).where(downloads.c.model_id == row.model_id).values(**values)
            ).rowcount
            if not changed:
                conn.execute(insert(downloads).values(model_id=row.model_id, **values))

    def load_downloads(self) -> list[DownloadRow]:
        """Every queue entry, in queue order."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(downloads).order_by(downloads.c.position)).all()
        return [
            DownloadRow(r.model_id, r.state, r.priority, r.position, r.max_retries) for r in rows
        ]

    def delete_download(self, model_id: str) -> None:
        """Forget a model's queue entry."""
        with self._engine.begin() as conn:
            conn.execute(delete(downloads).where(downloads.c.model_id == model_id))

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for the layers that keep their own tables here."""
        return self._engine

    def close(self) -> None:
        """Release connections."""
        self._engine.dispose()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the CLI read while the service writes; a busy timeout rides out short locks.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
