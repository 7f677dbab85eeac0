"""Schema migrations of modelward's database (Alembic), run when a ``Database`` opens.

``versions/`` holds one revision per schema change; ``0001`` is the baseline (every table of
``db.py``, and the way in for databases an older modelward made without migrations). Start-up
matters (``modelward status`` opens the database at every run, in a new home too), and
importing Alembic costs about 0.4 s, so two cases skip it: a database whose
``alembic_version`` already says ``HEAD`` costs one query; an empty one gets ``db.py``'s
tables made directly and is stamped ``HEAD`` (Alembic's own recipe for a new database; a test
keeps both ways equal). Anything else goes through ``runner.upgrade``. Both run under a lock,
so services starting together on one empty database take turns.
A new revision: write it under ``versions/`` (``script.py.mako`` is its template), set
``HEAD`` to it, and ``tests/db/test_migrations.py`` checks the rest.
"""

from __future__ import annotations

import socket
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    insert,
    inspect,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

HEAD = "0002"

LOST_WITH_THE_DATABASE = (
    "the download queue order, paused marks, health check history, generation and usage "
    "history, queued generation requests and the audit log"
)
"""What a new database forgets; never a model, since the store is the truth about disk."""


def default_node_name() -> str:
    """The node name when none is given: the host name, as ``Settings.node_name``."""
    return socket.gethostname()[:64] or "localhost"


"""The newest revision under ``versions/`` (a test keeps the two equal)."""

VERSION_TABLE = "alembic_version"

LOCK_KEY = 0x6D77_6462  # "mwdb"
"""PostgreSQL advisory lock every modelward holds while it changes the schema."""

_version = Table(
    VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),  # Alembic's own
)


def ensure_schema(engine: Engine, metadata: MetaData, *, node: str | None = None) -> None:
    """Bring the database to ``HEAD`` (``metadata`` is the schema ``HEAD`` describes); one
    query when it is there already. ``node``: the node migrating, which revisions that hand
    existing rows to a node give them to."""
    if current_revision(engine) == HEAD:
        return
    if _create_if_empty(engine, metadata):
        return
    from modelward.db_migrations.runner import upgrade

    upgrade(engine, metadata, node=node)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has no version table (new, or made by
    a modelward older than migrations)."""
    try:
        with engine.connect() as conn:
            found = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
    except (OperationalError, ProgrammingError) as exc:
        if _no_such_table(exc):
            return None
        raise
    return str(found) if found is not None else None


def migration_lock(conn: Connection) -> None:
    """Hold the schema lock until the connection's transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": LOCK_KEY})
    elif conn.dialect.name == "sqlite":
        # pysqlite would start the transaction at the first write only, and DDL outside one:
        # one transaction is one sync of a new file, and the write lock serialises starters.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _create_if_empty(engine: Engine, metadata: MetaData) -> bool:
    """Make every table of a database that has none and stamp it ``HEAD``, in one
    transaction; False (nothing done) when it has tables: those are Alembic's to migrate."""
    with engine.connect() as conn:
        migration_lock(conn)
        present = set(inspect(conn).get_table_names())
        if VERSION_TABLE in present or present & set(metadata.tables):
            conn.rollback()
            return current_revision(engine) == HEAD  # made meanwhile by another starter
        metadata.create_all(conn)
        _version.create(conn)
        conn.execute(insert(_version).values(version_num=HEAD))
        conn.commit()
    return True


def compare_type(
    context: Any, inspected: Any, metadata: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """Alembic's type comparison, except that SQLite's INTEGER is BIGINT: it stores 64 bits
    whatever the name, so a byte count there needs no migration. None: Alembic decides."""
    if context.dialect.name == "sqlite" and isinstance(metadata_type, BigInteger):
        return not isinstance(inspected_type, Integer)
    return None


def _no_such_table(exc: OperationalError | ProgrammingError) -> bool:
    # PostgreSQL: undefined_table; SQLite has no codes for it, only the message.
    if getattr(exc.orig, "sqlstate", None) == "42P01":
        return True
    return "no such table" in str(exc.orig)
