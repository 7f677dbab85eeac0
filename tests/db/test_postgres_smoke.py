"""The test PostgreSQL (tests/pg.py) works, and modelward's database layer runs on it."""

from __future__ import annotations

import threading
import time

from sqlalchemy import create_engine, inspect, text

from modelward.analytics.usage import UsageData, UsageLog
from modelward.availability.requests import RequestQueue, RequestState
from modelward.db import Database, DownloadRow, metadata
from modelward.events import EventBus
from modelward.health.checker import IntegrityResult, VerifyLevel
from modelward.health.history import HealthHistory
from modelward.health.issues import IntegrityIssue, IssueKind, IssueList
from modelward.health.performance import GenerationLog, GenerationMetrics
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
        assert set(inspect(db.engine).get_table_names()) == {*metadata.tables, "alembic_version"}

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


async def test_every_record_round_trips_through_a_second_connection(
    postgres: PostgresServer,
) -> None:
    """What one service writes, another process opening the same database reads back: the
    queue, generation requests, usage, generation metrics, audit and health history."""
    url = postgres.create_database()
    writer = Database(url)
    try:
        writer.save_download(DownloadRow("ti2v-5b", "downloading", "high", 0, 3))
        requests = RequestQueue(writer, EventBus())
        asked = await requests.put("ti2v-5b", {"prompt": "a cat", "frames": 81})
        UsageLog(writer).add("ti2v-5b", UsageData(duration_s=4.5, success=True, commit="c1"))
        GenerationLog(writer).add("ti2v-5b", GenerationMetrics(generation_time_s=4.5, steps=30))
        AuditLog(writer).record("alice", "pull", model_id="ti2v-5b", params={"wait": True})
        damaged = IntegrityIssue("vae/model.safetensors", IssueKind.CHECKSUM_MISMATCH, "sha256")
        HealthHistory(writer).save(
            IntegrityResult("ti2v-5b", VerifyLevel.FULL, False, 0.5, IssueList([damaged]),
                            time.time(), 7, 5_000_000_000)
        )  # fmt: skip
    finally:
        writer.close()

    reader = Database(url)
    try:
        assert reader.load_downloads() == [DownloadRow("ti2v-5b", "downloading", "high", 0, 3)]
        [queued] = await RequestQueue(reader, EventBus()).pending("ti2v-5b")
        assert (queued.request_id, queued.payload, queued.state, queued.position) == (
            asked.request_id, {"prompt": "a cat", "frames": 81}, RequestState.QUEUED, 1
        )  # fmt: skip
        [used] = UsageLog(reader).events(0, time.time() + 1, "ti2v-5b")
        assert (used.usage.duration_s, used.usage.commit) == (4.5, "c1")
        [metrics] = GenerationLog(reader).history("ti2v-5b")
        assert (metrics.generation_time_s, metrics.steps) == (4.5, 30)
        [entry] = AuditLog(reader).query(model_id="ti2v-5b")
        assert (entry.actor, entry.action, entry.params) == ("alice", "pull", {"wait": True})
        found = HealthHistory(reader).latest_for("ti2v-5b")
        assert found is not None and found.bytes_hashed == 5_000_000_000  # a BIGINT
        assert list(found.issues) == [damaged] and found.integrity_score == 0.5
    finally:
        reader.close()


def test_two_services_backfilling_usage_at_once_copy_the_generations_once(
    postgres: PostgresServer,
) -> None:
    """The backfill reads then writes: serialized (db.write's ``serialize``), two services
    starting together do not both see an empty usage table."""
    url = postgres.create_database()
    first, second = Database(url), Database(url)
    try:
        log = GenerationLog(first)
        for n in range(50):
            log.add("ti2v-5b", GenerationMetrics(generation_time_s=1.0 + n, at=1000.0 + n))
        start = threading.Barrier(2)
        taken: list[int] = []

        def backfill(db: Database) -> None:
            start.wait()
            taken.append(UsageLog(db).backfill_from_generations())

        threads = [threading.Thread(target=backfill, args=(db,)) for db in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(taken) == [0, 50]
        assert len(UsageLog(first).events(0, 10_000)) == 50
    finally:
        first.close()
        second.close()
