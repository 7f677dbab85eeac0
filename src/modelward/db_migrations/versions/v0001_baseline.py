"""Baseline: every table and index of modelward 0.x, on an empty database or one an older
modelward made without migrations (its tables kept, the columns added since filled in).

The tables are written out here, not imported from ``modelward.db``: a migration describes
the schema as it was at this revision, whatever ``db.py`` declares later.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from modelward.db_migrations import LOST_WITH_THE_DATABASE
from modelward.errors import StoreError

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

logger = logging.getLogger("modelward.db.migrations")  # under the database's own logger

baseline = sa.MetaData()
C = sa.Column

sa.Table(
    "downloads", baseline,
    C("model_id", sa.String(128), primary_key=True),
    C("state", sa.String(16), nullable=False),
    C("priority", sa.String(16), nullable=False),
    C("position", sa.Integer, nullable=False),
    C("max_retries", sa.Integer, nullable=False),
    C("updated_at", sa.Float, nullable=False),
)  # fmt: skip
sa.Table(
    "health_checks", baseline,
    C("id", sa.Integer, primary_key=True, autoincrement=True),
    C("model_id", sa.String(128), nullable=False, index=True),
    C("level", sa.String(16), nullable=False),
    C("is_healthy", sa.Boolean, nullable=False),
    C("integrity_score", sa.Float, nullable=False),
    C("issues", sa.JSON, nullable=False),
    C("checked_at", sa.Float, nullable=False, index=True),
    C("files_checked", sa.Integer, nullable=False),
    C("bytes_hashed", sa.BigInteger, nullable=False),
)  # fmt: skip
sa.Table(
    "generations", baseline,
    C("id", sa.Integer, primary_key=True, autoincrement=True),
    C("model_id", sa.String(128), nullable=False, index=True),
    C("at", sa.Float, nullable=False, index=True),
    C("generation_time_s", sa.Float, nullable=False),
    C("success", sa.Boolean, nullable=False),
    C("quality_issue", sa.Boolean, nullable=False),
    C("error", sa.String(500)),
    C("width", sa.Integer),
    C("height", sa.Integer),
    C("num_frames", sa.Integer),
    C("steps", sa.Integer),
)  # fmt: skip
sa.Table(
    "generation_requests", baseline,
    C("id", sa.String(32), primary_key=True),
    C("model_id", sa.String(128), nullable=False, index=True),
    C("payload", sa.JSON, nullable=False),
    C("state", sa.String(16), nullable=False, index=True),
    C("created_at", sa.Float, nullable=False),
    C("expires_at", sa.Float, nullable=False),
    C("updated_at", sa.Float, nullable=False),
)  # fmt: skip
sa.Table(
    "usage_events", baseline,
    C("id", sa.Integer, primary_key=True, autoincrement=True),
    C("model_id", sa.String(128), nullable=False, index=True),
    C("requested_model", sa.String(128)),
    C("at", sa.Float, nullable=False, index=True),
    C("duration_s", sa.Float, nullable=False),
    C("success", sa.Boolean, nullable=False),
    C("quality_issue", sa.Boolean, nullable=False),
    C("commit", sa.String(64)),
    C("concurrent_loaded", sa.Integer, nullable=False),
    C("error", sa.String(500)),
)  # fmt: skip
sa.Table(
    "download_outcomes", baseline,
    C("id", sa.Integer, primary_key=True, autoincrement=True),
    C("model_id", sa.String(128), nullable=False, index=True),
    C("at", sa.Float, nullable=False, index=True),
    C("status", sa.String(16), nullable=False),
    C("error_code", sa.String(64)),
    C("retries", sa.Integer, nullable=False),
    C("bytes_fetched", sa.BigInteger, nullable=False),
    C("elapsed_s", sa.Float, nullable=False),
)  # fmt: skip
sa.Table(
    "fallback_decisions", baseline,
    C("id", sa.Integer, primary_key=True, autoincrement=True),
    C("at", sa.Float, nullable=False, index=True),
    C("requested_model", sa.String(128), nullable=False, index=True),
    C("strategy", sa.String(32), nullable=False),
    C("used_model", sa.String(128)),
    C("is_mock", sa.Boolean, nullable=False),
)  # fmt: skip
sa.Table(
    "audit_log", baseline,
    C("id", sa.Integer, primary_key=True, autoincrement=True),
    C("at", sa.Float, nullable=False, index=True),
    C("actor", sa.String(160), nullable=False),
    C("token", sa.String(64)),
    C("action", sa.String(64), nullable=False, index=True),
    C("model_id", sa.String(128), index=True),
    C("params", sa.JSON, nullable=False),
    C("outcome", sa.String(16), nullable=False),
    C("status", sa.Integer),
    C("error_code", sa.String(64)),
)  # fmt: skip
sa.Table(
    "nodes", baseline,
    C("name", sa.String(64), primary_key=True),
    C("address", sa.String(500)),
    C("version", sa.String(32), nullable=False),
    C("models", sa.JSON, nullable=False),
    C("free_bytes", sa.BigInteger),
    C("started_at", sa.Float, nullable=False),
    C("last_seen", sa.Float, nullable=False, index=True),
)  # fmt: skip
sa.Table(
    "fleet_actions", baseline,
    C("id", sa.String(32), primary_key=True),
    C("action", sa.String(32), nullable=False),
    C("model_id", sa.String(128), nullable=False),
    C("targets", sa.JSON),
    C("params", sa.JSON, nullable=False),
    C("actor", sa.String(160), nullable=False),
    C("origin", sa.String(64), nullable=False),
    C("created_at", sa.Float, nullable=False, index=True),
)  # fmt: skip
sa.Table(
    "fleet_action_results", baseline,
    C("action_id", sa.String(32), primary_key=True),
    C("node", sa.String(64), primary_key=True),
    C("state", sa.String(16), nullable=False),
    C("message", sa.String(500)),
    C("error_code", sa.String(64)),
    C("updated_at", sa.Float, nullable=False),
)  # fmt: skip
sa.Table(
    "blob_leases", baseline,
    C("blob", sa.String(64), primary_key=True),
    C("holder", sa.String(64), nullable=False),
    C("mirror", sa.String(500), nullable=False),
    C("size_bytes", sa.BigInteger, nullable=False),
    C("bytes_done", sa.BigInteger, nullable=False),
    C("state", sa.String(16), nullable=False),
    C("expires_at", sa.Float, nullable=False),
    C("updated_at", sa.Float, nullable=False),
)  # fmt: skip


def upgrade() -> None:
    """Create what is missing; bring tables an older modelward made up to this schema."""
    conn = op.get_bind()
    existing = set(sa.inspect(conn).get_table_names())
    for table in baseline.sorted_tables:
        if table.name in existing:
            _bring_up(conn, table)
        else:
            table.create(conn)


def downgrade() -> None:
    """Drop every table (the records go; the models on disk stay)."""
    conn = op.get_bind()
    baseline.drop_all(conn, checkfirst=True)


def _bring_up(conn: Connection, table: sa.Table) -> None:
    """Add the nullable columns a table from an older version lacks, its missing indexes,
    and BIGINT where it counts bytes (PostgreSQL's INTEGER stops at 2 GB)."""
    found = {column["name"]: column for column in sa.inspect(conn).get_columns(table.name)}
    for column in table.columns:
        if column.name not in found:
            _add_column(conn, table, column)
        elif _too_narrow(conn, column, found[column.name]["type"]):
            op.alter_column(table.name, column.name, type_=sa.BigInteger)
    indexes = {index["name"] for index in sa.inspect(conn).get_indexes(table.name)}
    for index in table.indexes:
        if index.name not in indexes:
            index.create(conn)


def _too_narrow(conn: Connection, column: sa.Column[object], found: object) -> bool:
    """A byte count stored as PostgreSQL INTEGER (SQLite's INTEGER holds 64 bits)."""
    wanted = isinstance(column.type, sa.BigInteger)
    return wanted and conn.dialect.name == "postgresql" and not isinstance(found, sa.BigInteger)


def _add_column(conn: Connection, table: sa.Table, column: sa.Column[object]) -> None:
    # Existing rows need a value: only NULL is one that is right for every column.
    if not column.nullable or column.primary_key:
        raise StoreError(
            f"the database table {table.name} lacks the required column {column.name} "
            "(written by another modelward version)",
            hint="Move the database file aside or point MODELWARD_DATABASE_URL at a new "
            f"database; modelward creates a new one (losing {LOST_WITH_THE_DATABASE}, never "
            "a model).",
        )
    op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
    logger.info("database: added column %s.%s (older schema)", table.name, column.name)
