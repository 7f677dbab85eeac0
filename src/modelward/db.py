"""modelward's database: the download queue, health check results, generation metrics, usage
events and generation requests waiting for a model.

SQLite in ``MODELWARD_HOME`` by default, through SQLAlchemy Core with portable SQL, or a
PostgreSQL server a fleet shares (``MODELWARD_DATABASE_URL=postgresql://...``). The store
stays the truth about what is on disk: losing this database loses the queue order and paused
marks, never a model. That is why a damaged SQLite file is moved aside and replaced by a
fresh one rather than stopping the service. The schema is kept by Alembic migrations
(``db_migrations/``), run when the database opens. Reads and writes go through
``Database.read`` / ``Database.write``, which ride out a PostgreSQL restart
(``db_reconnect.py``). Calls are blocking; async callers run them in a worker thread.
Nodes sharing one database keep their own queue, requests and history apart by a ``node``
column (``Database.node``, ``Database.own``); the audit log and the fleet tables are shared.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
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
    make_url,
    or_,
    select,
)
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext
from sqlalchemy.exc import (
    DatabaseError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.sql.elements import ColumnElement

from modelward.db_migrations import LOST_WITH_THE_DATABASE, default_node_name, ensure_schema
from modelward.db_reconnect import RECONNECT_S, Reconnecting, refusal
from modelward.errors import InsufficientSpaceError, StoreError
from modelward.units import format_size

logger = logging.getLogger(__name__)

T = TypeVar("T")

metadata = MetaData()

# The tables below marked "per node" hold one node's own state: nodes sharing a PostgreSQL
# database each write their name in ``node`` and read only their own rows (``Database.own``).
# A NULL ``node`` is a row written before revision 0002 without one: every node reads it as
# its own (history only; queued work was handed to the node that migrated, see 0002).

# Per node: the queue of one service, keyed by (node, model_id).
downloads = Table(
    "downloads",
    metadata,
    Column("node", String(64), primary_key=True),
    Column("model_id", String(128), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("position", Integer, nullable=False),
    Column("max_retries", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)


# Per node.
health_checks = Table(
    "health_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node", String(64)),
    Column("model_id", String(128), nullable=False, index=True),
    Column("level", String(16), nullable=False),
    Column("is_healthy", Boolean, nullable=False),
    Column("integrity_score", Float, nullable=False),
    Column("issues", JSON, nullable=False),
    Column("checked_at", Float, nullable=False, index=True),
    Column("files_checked", Integer, nullable=False),
    Column("bytes_hashed", BigInteger, nullable=False),
)

# Per node.
generations = Table(
    "generations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node", String(64)),
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


# Per node.
generation_requests = Table(
    "generation_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("node", String(64)),
    Column("model_id", String(128), nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)


# Per node.
usage_events = Table(
    "usage_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node", String(64)),
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
    Column("bytes_fetched", BigInteger, nullable=False),  # past 2 GB: not INTEGER
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
# Team-wide: every node reads every row; ``node`` says which node recorded it.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),
    Column("actor", String(160), nullable=False),
    Column("node", String(64)),
    Column("token", String(64)),
    Column("action", String(64), nullable=False, index=True),
    Column("model_id", String(128), index=True),
    Column("params", JSON, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("status", Integer),
    Column("error_code", String(64)),
)

# The fleet (docs/FLEET.md): rows shared by every node pointing at one PostgreSQL database.
# Each service keeps its own row up to date (name, address, models, disk, last seen).
nodes = Table(
    "nodes",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("address", String(500)),
    Column("version", String(32), nullable=False),
    Column("models", JSON, nullable=False),
    Column("free_bytes", BigInteger),
    Column("started_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False, index=True),
)

# A fleet-wide action asked on one node (pull, update, verify, remove a model on all nodes or
# named ones); each node that is a target does its own work and records it below.
fleet_actions = Table(
    "fleet_actions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("action", String(32), nullable=False),
    Column("model_id", String(128), nullable=False),
    Column("targets", JSON),  # node names; null: every node
    Column("params", JSON, nullable=False),
    Column("actor", String(160), nullable=False),
    Column("origin", String(64), nullable=False),  # the node it was asked on
    Column("created_at", Float, nullable=False, index=True),
)

fleet_action_results = Table(
    "fleet_action_results",
    metadata,
    Column("action_id", String(32), primary_key=True),
    Column("node", String(64), primary_key=True),
    Column("state", String(16), nullable=False),  # running, completed, failed
    Column("message", String(500)),
    Column("error_code", String(64)),
    Column("updated_at", Float, nullable=False),
)

# One node fetches a blob from the Hub for the whole team: the row is its claim, renewed
# while it works and taken over by another node once ``expires_at`` passes.
blob_leases = Table(
    "blob_leases",
    metadata,
    Column("blob", String(64), primary_key=True),  # sha256 or git blob id
    Column("holder", String(64), nullable=False),
    Column("mirror", String(500), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("bytes_done", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # fetching, publishing, published
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


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, object],
    keys: Sequence[str],
    *,
    replace: bool = True,
) -> int:
    """Insert ``values`` into ``table``, or update the row whose ``keys`` columns match
    (``replace=False``: leave it as it is), in one statement (SQLite and PostgreSQL both
    have ON CONFLICT): an update-then-insert races when two services write the same row.
    Returns the rows written (0: a row was there and ``replace`` is off)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg = postgresql.insert(table).values(**values)
        update_set = {k: pg.excluded[k] for k in values if k not in keys and replace}
        return int(conn.execute(_on_conflict(pg, keys, update_set)).rowcount)
    elif dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        lite = sqlite.insert(table).values(**values)
        update_set = {k: lite.excluded[k] for k in values if k not in keys and replace}
        return int(conn.execute(_on_conflict(lite, keys, update_set)).rowcount)
    else:
        raise StoreError(f"database dialect {dialect} is not supported (SQLite or PostgreSQL)")


def _on_conflict(statement: Any, keys: Sequence[str], update_set: dict[str, Any]) -> Any:
    """The dialect insert's ON CONFLICT clause (both dialects spell it the same way)."""
    if update_set:
        return statement.on_conflict_do_update(index_elements=list(keys), set_=update_set)
    return statement.on_conflict_do_nothing(index_elements=list(keys))


def sqlite_url(path: Path) -> str:
    """The database URL of a SQLite file."""
    return f"sqlite:///{path}"


def normalize_url(url: str) -> str:
    """``url`` as SQLAlchemy takes it: ``postgres://`` (Heroku's, libpq's alias) is
    ``postgresql://``, whose driver in SQLAlchemy 2.1 is psycopg 3."""
    if url.startswith("postgres://"):
        return "postgresql://" + url.removeprefix("postgres://")
    return url


def shown_url(url: str) -> str:
    """``url`` with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "the configured database URL"


class Database:
    """The connection to modelward's database; its schema is migrated on opening, a
    damaged SQLite file is replaced by a new one, and on PostgreSQL reads and writes ride
    out a server restart (for up to ``reconnect_s`` seconds)."""

    def __init__(
        self, url: str, *, node: str | None = None, reconnect_s: float = RECONNECT_S
    ) -> None:
        self.node = node or default_node_name()
        """This service's node name (``settings.node_name``): written in the per-node
        tables' ``node`` column and the audit log, and read back by ``own``."""
        url = normalize_url(url)
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Looked at before SQLite opens it: closing a connection to a file that is not a
            # database deletes its -wal, which may hold the only copy of recent rows.
            if not _has_sqlite_header(path):
                _move_aside(path, "not a SQLite database")
        try:
            self._engine: Engine = _open(url, self.node)
        except (ImportError, NoSuchModuleError) as exc:
            raise StoreError(
                f"no driver for the database {shown_url(url)}: {exc}",
                hint='For PostgreSQL: pip install "modelward[postgres]" (psycopg); '
                "SQLite needs none.",
            ) from exc
        except SQLAlchemyError as exc:
            if path is None:
                raise _server_error(url, exc) from exc
            if not _is_damaged(exc):
                raise _open_error(url, exc) from exc
            _move_aside(path, getattr(exc, "orig", None) or exc)
            try:
                self._engine = _open(url, self.node)
            except SQLAlchemyError as again:
                raise _open_error(url, again) from again
        self._runner = Reconnecting(self._engine, reconnect_s)

    def read(self, fn: Callable[[Connection], T]) -> T:
        """``fn(conn)``'s answer; read again after a lost connection to the server."""
        return self._runner.read(fn)

    def write(self, fn: Callable[[Connection], T], *, serialize: str | None = None) -> T:
        """``fn(conn)`` in one transaction, committed exactly once, tried again after a lost
        connection; ``serialize`` names what writers must do one at a time."""
        return self._runner.write(fn, serialize=serialize)

    def own(self, table: Table) -> ColumnElement[bool]:
        """The condition selecting this node's rows of a per-node table: its own, and those
        written before rows had a node (NULL), which every node takes as its own."""
        column = table.c.node
        return or_(column == self.node, column.is_(None))

    def save_download(self, row: DownloadRow) -> None:
        """Insert or replace one of this node's queue entries (one statement: two writers
        cannot race)."""
        values = {
            "node": self.node,
            "model_id": row.model_id,
            "state": row.state,
            "priority": row.priority,
            "position": row.position,
            "max_retries": row.max_retries,
            "updated_at": time.time(),
        }
        self.write(lambda conn: upsert(conn, downloads, values, ["node", "model_id"]))

    def load_downloads(self) -> list[DownloadRow]:
        """This node's queue entries, in queue order (other nodes' are theirs to resume)."""
        query = (
            select(downloads).where(downloads.c.node == self.node).order_by(downloads.c.position)
        )
        rows = self.read(lambda conn: conn.execute(query).all())
        return [
            DownloadRow(r.model_id, r.state, r.priority, r.position, r.max_retries) for r in rows
        ]

    def delete_download(self, model_id: str) -> None:
        """Forget this node's queue entry of a model (another node's stays)."""
        where = (downloads.c.node == self.node, downloads.c.model_id == model_id)
        self.write(lambda conn: conn.execute(delete(downloads).where(*where)))

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for the layers that keep their own tables here (through
        ``read`` and ``write``, which reconnect)."""
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


def _open(url: str, node: str) -> Engine:
    """An engine whose schema is at the newest revision (``node`` migrating it)."""
    sqlite = make_url(url).get_backend_name() == "sqlite"
    # On a server, a pooled connection may have died with a restart: test it on checkout.
    engine = create_engine(url) if sqlite else create_engine(url, pool_pre_ping=True)
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _raise_if_disk_full)
    try:
        ensure_schema(engine, metadata, node=node)
        if sqlite:
            with engine.connect() as conn:
                _check_pages(conn)
    except BaseException:
        engine.dispose()  # the file may be moved aside next: let go of it first
        raise
    return engine


def _check_pages(conn: Connection) -> None:
    """Read every page once (small: this database holds records, not models), so damage
    shows now, where the file can be moved aside, not in the middle of a job."""
    verdict = conn.exec_driver_sql("PRAGMA quick_check(1)").scalar()
    if verdict != "ok":
        damaged = sqlite3.DatabaseError(f"database disk image is malformed: {verdict}")
        damaged.sqlite_errorcode = sqlite3.SQLITE_CORRUPT
        raise DatabaseError("PRAGMA quick_check", None, damaged)


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


def _server_error(url: str, exc: SQLAlchemyError) -> StoreError:
    """A database server that cannot be reached or refuses us, said plainly."""
    orig = getattr(exc, "orig", None)
    reason = str(orig or exc).strip().splitlines()[0] if str(orig or exc).strip() else ""
    parsed: URL = make_url(url)
    refused = refusal(exc) if isinstance(exc, DBAPIError) else None
    if refused == "login":
        hint = "Check the user name and password in MODELWARD_DATABASE_URL."
    elif refused == "database":
        hint = f"Create the database (createdb {parsed.database}) or fix its name in the URL."
    elif isinstance(exc, OperationalError):
        hint = (
            f"Check that the database server runs, listens on {parsed.host}:{parsed.port or 5432}"
            " and accepts connections from this machine (pg_hba.conf)."
        )
    else:
        hint = "Check MODELWARD_DATABASE_URL."
    return StoreError(f"cannot open the database {shown_url(url)}: {reason}", hint=hint)


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
