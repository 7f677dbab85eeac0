"""Running the migrations: Alembic, configured in code (no alembic.ini), on the caller's
engine, in one transaction held under a lock."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine

from modelward.db_migrations import VERSION_TABLE, migration_lock
from modelward.errors import StoreError

logger = logging.getLogger(__name__)

NODE_ATTRIBUTE = "node"
"""The Alembic config attribute holding the migrating node's name (None: not known)."""

METADATA_ATTRIBUTE = "metadata"
"""The Alembic config attribute holding the schema the newest revision describes (db.py's),
handed in so that migrations never import the module that runs them."""

_ONE_AT_A_TIME = threading.Lock()
"""Alembic keeps the running migration's context in module globals (``alembic.context``)."""


def config() -> Config:
    """Alembic's configuration for modelward's migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    return cfg


def upgrade(engine: Engine, metadata: MetaData, *, node: str | None = None) -> None:
    """Migrate to the newest revision, or adopt a database made before migrations, in one
    transaction; other modelwards doing the same wait their turn, then find nothing to do.
    ``node`` (default: the host name) is the node migrating: revisions read it as
    ``NODE_ATTRIBUTE``."""
    cfg = config()
    cfg.attributes[NODE_ATTRIBUTE] = node
    cfg.attributes[METADATA_ATTRIBUTE] = metadata
    with _ONE_AT_A_TIME, engine.connect() as conn:
        migration_lock(conn)
        _refuse_newer(conn, ScriptDirectory.from_config(cfg))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()


def _refuse_newer(conn: Connection, scripts: ScriptDirectory) -> None:
    """A database migrated by a newer modelward is not downgraded, nor used blindly."""
    from sqlalchemy import inspect

    if not inspect(conn).has_table(VERSION_TABLE):
        return
    current = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
    known = {script.revision for script in scripts.walk_revisions()}
    if current is not None and current not in known:
        raise StoreError(
            f"the database is at schema revision {current}, written by a newer modelward "
            f"(this one knows up to {scripts.get_current_head()})",
            hint="Upgrade modelward on this machine to the version the other nodes sharing "
            "the database run.",
        )
