"""Alembic's environment: migrations run on the connection ``runner.upgrade`` passes (online
only: modelward never writes SQL scripts)."""

from __future__ import annotations

from alembic import context

from modelward.db_migrations import VERSION_TABLE, compare_type

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=context.config.attributes["metadata"],
    version_table=VERSION_TABLE,
    compare_type=compare_type,
    # SQLite alters a table by copying it; later revisions need that for most changes.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
