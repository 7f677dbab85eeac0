"""Revision 0002 (per-node rows) on a database at 0001, SQLite and PostgreSQL: every row is
kept; the queue and queued requests go to the node that migrates, the history stays every
node's; the queue is keyed by (node, model_id) and the schema agrees with db.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import Engine

from modelward.db import Database, DownloadRow, audit_log, metadata, sqlite_url
from modelward.db_migrations import HEAD, compare_type, current_revision
from modelward.db_migrations.runner import config
from modelward.health.history import HealthHistory
from tests.pg import PostgresServer

TI2V = "ti2v-5b"

ROWS_AT_0001 = [
    "INSERT INTO downloads VALUES ('ti2v-5b', 'paused', 'high', 0, 3, 1.0)",
    "INSERT INTO downloads VALUES ('t2v-a14b', 'queued', 'normal', 1, 3, 1.0)",
    "INSERT INTO health_checks (model_id, level, is_healthy, integrity_score, issues,"
    " checked_at, files_checked, bytes_hashed) VALUES ('ti2v-5b', 'structural', true, 1.0,"
    " '[]', 10.0, 3, 0)",
    "INSERT INTO generation_requests VALUES ('r1', 'ti2v-5b', '{\"prompt\": \"a fox\"}',"
    " 'queued', 1.0, 9999999999.0, 1.0)",
    "INSERT INTO audit_log (at, actor, action, model_id, params, outcome) VALUES"
    " (1.0, 'cli:ann', 'download.start', 'ti2v-5b', '{}', 'ok')",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0001(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each dialect at revision 0001, with rows in the tables 0002 changes."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "modelward.db")
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database()
    engine = create_engine(url)
    cfg = config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["metadata"] = metadata
        command.upgrade(cfg, "0001")
        for statement in ROWS_AT_0001:
            conn.execute(text(statement))
        conn.commit()
    engine.dispose()
    yield url


def _schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": compare_type})
        return list(compare_metadata(context, metadata))


def test_an_upgrade_from_0001_keeps_every_row(at_0001: str) -> None:
    gpu_1 = Database(at_0001, node="gpu-1")  # opens, and so migrates, first
    gpu_2 = Database(at_0001, node="gpu-2")
    engine = create_engine(at_0001)
    try:
        assert current_revision(engine) == HEAD == "0002"
        assert _schema_differences(engine) == []
        key = inspect(engine).get_pk_constraint("downloads")
        assert sorted(key["constrained_columns"]) == ["model_id", "node"]

        # Queued work went to the node that migrated, and stays out of the others' queues.
        queue = [(r.model_id, r.state) for r in gpu_1.load_downloads()]
        assert queue == [(TI2V, "paused"), ("t2v-a14b", "queued")]
        assert gpu_2.load_downloads() == []
        with engine.connect() as conn:
            requests = conn.execute(text("SELECT id, node FROM generation_requests")).all()
            audit = conn.execute(select(audit_log.c.actor, audit_log.c.node)).all()
        assert [tuple(r) for r in requests] == [("r1", "gpu-1")]
        assert [tuple(r) for r in audit] == [("cli:ann", None)]  # which node: not known
        # History from before nodes is every node's.
        for db in (gpu_1, gpu_2):
            assert [r.checked_at for r in HealthHistory(db).recent(TI2V)] == [10.0]

        # The new key takes a second node's entry for the same model.
        gpu_2.save_download(DownloadRow(TI2V, "queued", "normal", 0, 3))
        assert [r.state for r in gpu_1.load_downloads() if r.model_id == TI2V] == ["paused"]
    finally:
        gpu_1.close()
        gpu_2.close()
        engine.dispose()
