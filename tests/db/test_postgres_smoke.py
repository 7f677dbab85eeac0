"""The test PostgreSQL (tests/pg.py) works, and modelward's database layer runs on it."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from modelward.db import Database, DownloadRow, metadata
from modelward.ops import AuditLog
from tests.pg import PostgresServer


def test_the_server_answers_on_loopback(postgres: PostgresServer, postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
            assert conn.execute(text("SHOW listen_addresses")).scalar() == "127.0.0.1"
            assert conn.execute(text("SELECT current_database()")).scalar() == "modelward"
    finally:
        engine.dispose()
    assert postgres.start_s > 0


def test_a_restart_keeps_committed_rows(postgres: PostgresServer) -> None:
    engine = create_engine(postgres.create_database(), pool_pre_ping=True)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE kept (id INTEGER PRIMARY KEY, name TEXT)"))
            conn.execute(text("INSERT INTO kept VALUES (1, 'ti2v-5b')"))
        postgres.restart()
        with engine.connect() as conn:  # the pooled connection broke: pre-ping replaces it
            assert conn.execute(text("SELECT name FROM kept WHERE id = 1")).scalar() == "ti2v-5b"
    finally:
        engine.dispose()


def test_database_creates_its_tables_and_round_trips_records(postgres: PostgresServer) -> None:
    url = postgres.create_database()
    db = Database(url)
    try:
        assert db.engine.dialect.name == "postgresql"
        assert set(inspect(db.engine).get_table_names()) == set(metadata.tables)

        db.save_download(DownloadRow("ti2v-5b", "queued", "normal", 0, 3))
        db.save_download(DownloadRow("t2v-a14b", "queued", "high", 1, 3))
        db.save_download(DownloadRow("ti2v-5b", "paused", "normal", 2, 5))  # the update path
        assert db.load_downloads() == [
            DownloadRow("t2v-a14b", "queued", "high", 1, 3),
            DownloadRow("ti2v-5b", "paused", "normal", 2, 5),
        ]
        db.delete_download("t2v-a14b")
        assert [row.model_id for row in db.load_downloads()] == ["ti2v-5b"]

        audit = AuditLog(db)  # a JSON column and an autoincrement id
        audit.record("alice", "pull", model_id="ti2v-5b", params={"revision": "main", "n": 2})
        (entry,) = audit.query(model_id="ti2v-5b")
        assert (entry.actor, entry.action, entry.params) == (
            "alice",
            "pull",
            {"revision": "main", "n": 2},
        )
    finally:
        db.close()

    again = Database(url)  # tables exist now: opening again adds nothing and keeps the rows
    try:
        assert [row.model_id for row in again.load_downloads()] == ["ti2v-5b"]
    finally:
        again.close()
