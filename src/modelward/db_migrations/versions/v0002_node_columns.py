"""Per-node rows: nodes sharing one PostgreSQL database each keep their own download queue,
generation requests, health check history and generation and usage figures, told apart by a
``node`` column; the audit log, team-wide, gets one too, to say which node recorded a row.

The download queue is keyed by (node, model_id) from here on (SQLite rebuilds the table in
Alembic's batch mode, keeping its rows). Existing rows:

- queue entries and generation requests are work still to do, which exactly one node must
  resume: they go to the node that migrates (the ``node`` the runner passes; the host name
  when it passes none). On a SQLite home that is the node that made them.
- health checks, generations, usage events and audit records stay NULL: which node wrote
  them is not known, and ``Database.own`` reads a NULL as every node's own (history, so
  nothing runs twice for it).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from modelward.db_migrations import default_node_name
from modelward.db_migrations.runner import NODE_ATTRIBUTE

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NODE = sa.String(64)
HISTORY = ("health_checks", "generations", "usage_events", "audit_log")
"""Tables whose existing rows keep a NULL node."""
WORK = "generation_requests"
"""A table whose existing rows go to the migrating node."""
QUEUE_KEY = "downloads_pkey"
"""The queue's primary key, named as PostgreSQL names one it is not told the name of."""


def upgrade() -> None:
    """Add ``node`` to the per-node tables and the audit log; key the queue by node."""
    node = context.config.attributes.get(NODE_ATTRIBUTE) or default_node_name()
    for name in HISTORY:
        op.add_column(name, sa.Column("node", NODE, nullable=True))
    op.add_column(WORK, sa.Column("node", NODE, nullable=True))
    op.execute(sa.table(WORK, sa.column("node", NODE)).update().values(node=node))
    _key_queue_by_node(node)


def _key_queue_by_node(node: str) -> None:
    """The queue's entries go to ``node``; its key becomes (node, model_id)."""
    op.add_column("downloads", sa.Column("node", NODE, nullable=True))
    op.execute(sa.table("downloads", sa.column("node", NODE)).update().values(node=node))
    # PostgreSQL's key has a name to drop it by; SQLite's has none, so the table SQLite
    # rebuilds is described here with one (reflected, its model_id would stay a key column).
    old_key = sa.inspect(op.get_bind()).get_pk_constraint("downloads").get("name") or QUEUE_KEY
    before = _queue(old_key, ["model_id"], node_nullable=True)
    with op.batch_alter_table("downloads", copy_from=before) as batch:
        batch.drop_constraint(old_key, type_="primary")
        batch.alter_column("node", existing_type=NODE, nullable=False)
        batch.create_primary_key(QUEUE_KEY, ["node", "model_id"])


def _queue(key: str, key_columns: list[str], *, node_nullable: bool) -> sa.Table:
    """The queue table with its ``node`` column, keyed by ``key_columns``."""
    return sa.Table(
        "downloads",
        sa.MetaData(),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("max_retries", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("node", NODE, nullable=node_nullable),
        sa.PrimaryKeyConstraint(*key_columns, name=key),
    )


def downgrade() -> None:
    """Back to one queue for the database: this node's entries only (a queue is a hint; the
    store is the truth), then drop the ``node`` columns."""
    node = context.config.attributes.get(NODE_ATTRIBUTE) or default_node_name()
    downloads = sa.table("downloads", sa.column("node", NODE))
    op.execute(downloads.delete().where(downloads.c.node != node))
    now = _queue(QUEUE_KEY, ["node", "model_id"], node_nullable=False)
    with op.batch_alter_table("downloads", copy_from=now) as batch:
        batch.drop_constraint(QUEUE_KEY, type_="primary")
        batch.drop_column("node")
        batch.create_primary_key(QUEUE_KEY, ["model_id"])
    for name in (*HISTORY, WORK):
        with op.batch_alter_table(name) as batch:
            batch.drop_column("node")
