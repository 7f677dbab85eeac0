"""modelward's database: the download queue, health check results, generation metrics, usage
events and generation requests waiting for a model.

SQLite in ``MODELWARD_HOME`` by default, through SQLAlchemy Core with portable SQL so a
shared deployment can point ``database_url`` at PostgreSQL. The store stays the truth about
what is on disk: losing this database loses the queue order and paused marks, never a model.
That is why a damaged SQLite file is moved aside and replaced by a fresh one rather than
stopping the service. Tables an older modelward created get the nullable columns added since.
Calls are blocking; async callers run them in a worker thread.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
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
    inspect,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.exc import DatabaseError, SQLAlchemyError
from sqlalchemy.schema import CreateColumn

from modelward.errors import InsufficientSpaceError, StoreError
from modelward.units import format_size

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


usage_events = Table(
    "usage_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", String(128), nullable=False, index=True),
    Column("requested_model", String(128)),
    Column("at", Float, nullable=False, index=True),
    Column("duration_s", Float, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("quality_issue", Boolean, nullable=False),
    Column("commit", String(64)),
    Column("concurrent_loaded", Integer, nullable=False),
    Column("error", String(500)),
)

# How each download job ended and what each job asking for a model got: the success rate,
# retries and fallback usage figures of `modelward analytics` (analytics/operations.py).
download_outcomes = Table(
    "download_outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", String(128), nullable=False, index=True),
    Column("at", Float, nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64)),
    Column("retries", Integer, nullable=False),
    Column("bytes_fetched", Integer, nullable=False),
    Column("elapsed_s", Float, nullable=False),
)

fallback_decisions = Table(
    "fallback_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),
    Column("requested_model", String(128), nullable=False, index=True),
    Column("strategy", String(32), nullable=False),
    Column("used_model", String(128)),
    Column("is_mock", Boolean, nullable=False),
)

# Append-only: rows are only ever inserted, and removed by age under the retention setting.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),
    Column("actor", String(160), nullable=False),
    Column("token", String(64)),
    Column("action", String(64), nullable=False, index=True),
    Column("model_id", String(128), index=True),
    Column("params", JSON, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("status", Integer),
    Column("error_code", String(64)),
)

LOST_WITH_THE_DATABASE = (
    "the download queue order, paused marks, health check history, generation and usage "
    "history, queued generation requests and the audit log"
)
"""What a new database forgets; never a model, since the store is the truth about disk."""


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
    """The connection to modelward's database; tables are created on first use, columns added
    since an older version are added, and a damaged SQLite file is replaced by a new one."""

    def __init__(self, url: str) -> None:
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Looked at before SQLite opens it: closing a connection to a file that is not a
            # database deletes its -wal, which may hold the only copy of recent rows.
            if not _has_sqlite_header(path):
                _move_aside(path, "not a SQLite database")
        try:
            self._engine: Engine = _open(url)
        except ImportError as exc:
            raise StoreError(
                f"no driver for the database {url}: {exc}",
                hint="Install the database driver the URL names (for PostgreSQL: psycopg).",
            ) from exc
        except SQLAlchemyError as exc:
            if path is None or not _is_damaged(exc):
                raise _open_error(url, exc) from exc
            _move_aside(path, getattr(exc, "orig", None) or exc)
            try:
                self._engine = _open(url)
            except SQLAlchemyError as again:
                raise _open_error(url, again) from again

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


def _sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return None if name.startswith("file:") else Path(name)


def _open(url: str) -> Engine:
    """An engine whose schema is complete: tables created, columns added since filled in."""
    engine = create_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _raise_if_disk_full)
    try:
        _create_tables(engine)
        with engine.begin() as conn:
            _add_missing_columns(conn)
            if url.startswith("sqlite"):
                _check_pages(conn)
    except BaseException:
        engine.dispose()  # the file may be moved aside next: let go of it first
        raise
    return engine


def _create_tables(engine: Engine) -> None:
    """The missing tables and indexes in one transaction: one sync of a new file, not one
    per statement (31 fdatasyncs, 20-140 ms of every first command in a new home)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")  # pysqlite runs DDL outside a transaction otherwise
        metadata.create_all(conn)
        conn.commit()


def _check_pages(conn: Connection) -> None:
    """Read every page once (small: this database holds records, not models), so damage
    shows now, where the file can be moved aside, not in the middle of a job."""
    verdict = conn.exec_driver_sql("PRAGMA quick_check(1)").scalar()
    if verdict != "ok":
        damaged = sqlite3.DatabaseError(f"database disk image is malformed: {verdict}")
        damaged.sqlite_errorcode = sqlite3.SQLITE_CORRUPT
        raise DatabaseError("PRAGMA quick_check", None, damaged)


def _add_missing_columns(conn: Connection) -> None:
    """Add the columns the metadata declares that a table from an older version lacks."""
    found = inspect(conn)
    quote = conn.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        existing = {column["name"] for column in found.get_columns(table.name)}
        for column in table.columns:
            if column.name in existing:
                continue
            # Existing rows need a value: only NULL is one that is right for every column.
            if not column.nullable or column.primary_key:
                raise StoreError(
                    f"the database table {table.name} lacks the required column "
                    f"{column.name} (written by another modelward version)",
                    hint="Move the database file aside; modelward creates a new one "
                    f"(losing {LOST_WITH_THE_DATABASE}, never a model).",
                )
            spec = CreateColumn(column).compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {quote.format_table(table)} ADD COLUMN {spec}"))
            for index in table.indexes:
                if column.name in index.columns:
                    index.create(conn, checkfirst=True)
            logger.info("database: added column %s.%s (older schema)", table.name, column.name)


def _is_damaged(exc: SQLAlchemyError) -> bool:
    """Whether SQLite said the file is not a database or is corrupt.

    Only these two codes: a busy or locked database, or a folder that cannot be written,
    is a passing or a permission problem, and moving that file aside would lose good data."""
    orig = getattr(exc, "orig", None)
    if not isinstance(orig, sqlite3.DatabaseError):
        return False
    code = getattr(orig, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    return code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


def _has_sqlite_header(path: Path) -> bool:
    """False for a file with content that does not start as every SQLite database does
    (an empty or missing file is a new database)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return True
    except OSError:
        return True  # unreadable: let SQLite say why, rather than move what may be good
    return not head or head == _SQLITE_HEADER


_SQLITE_HEADER = b"SQLite format 3\x00"


def _move_aside(path: Path, reason: object) -> None:
    """Rename a damaged database and its journal files to ``<name>.corrupt-<unix time>``."""
    stamp = int(time.time())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    while target.exists():  # two damaged files in one second: keep both
        stamp += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        path.rename(target)
        # Keep SQLite's names (<db>-wal next to <db>) so the pair can still be opened together
        # by someone trying to recover rows from it.
        for suffix in ("-wal", "-shm", "-journal"):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                companion.rename(target.with_name(target.name + suffix))
    except OSError as err:
        raise StoreError(
            f"the database {path} is damaged ({reason}) and cannot be moved aside: {err}",
            hint=f"Delete or move {path} by hand; a new one is created (losing "
            f"{LOST_WITH_THE_DATABASE}, never a model).",
        ) from err
    logger.warning(
        "database %s is damaged (%s): moved it aside to %s and created a new one; lost %s "
        "(no model is lost: the files on disk are untouched)",
        path,
        reason,
        target,
        LOST_WITH_THE_DATABASE,
    )


def _open_error(url: str, exc: SQLAlchemyError) -> StoreError:
    return StoreError(
        f"cannot open the database {url}: {exc}",
        hint="Check MODELWARD_HOME is writable; a damaged database file can be "
        f"deleted (losing {LOST_WITH_THE_DATABASE}, never a model).",
    )


def _raise_if_disk_full(context: ExceptionContext) -> None:
    """SQLite's "database or disk is full" as InsufficientSpaceError naming the disk that
    holds the database (MODELWARD_HOME's, not the cache's), instead of a traceback."""
    orig = context.original_exception
    path = _sqlite_file(str(context.engine.url)) if context.engine is not None else None
    if path is None or not isinstance(orig, sqlite3.OperationalError):
        return
    code = getattr(orig, "sqlite_errorcode", 0) & 0xFF
    free = _free_bytes(path.parent)
    # A failed write on a disk with nothing left is the full disk, whatever SQLite calls it.
    if code != sqlite3.SQLITE_FULL and not (code == sqlite3.SQLITE_IOERR and free < 1 << 20):
        return
    raise InsufficientSpaceError(
        f"the disk holding modelward's database {path} is full "
        f"({format_size(free)} free); nothing more can be recorded",
        needed_bytes=0,
        free_bytes=free,
        hint=f"Free space on the disk holding {path.parent} (MODELWARD_HOME), or point "
        "MODELWARD_HOME at a larger disk; downloads resume where they stopped.",
    ) from orig


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the CLI read while the service writes; a busy timeout rides out short locks.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
