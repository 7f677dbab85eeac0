"""The database file: a damaged one is replaced, an older one gains the new columns."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect

from modelward.analytics import UsageData, UsageLog
from modelward.db import Database, DownloadRow, sqlite_url
from modelward.errors import StoreError
from tests.analytics.conftest import NOW, at


def _columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def test_a_missing_file_is_created(db_path: Path) -> None:
    db = Database(sqlite_url(db_path))
    try:
        assert "usage_events" in inspect(db.engine).get_table_names()
    finally:
        db.close()
    assert db_path.is_file()
    assert list(db_path.parent.glob("*.corrupt-*")) == []


def test_garbage_is_moved_aside_and_a_new_database_works(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = b"this is not a database\n" * 500
    db_path.write_bytes(garbage)
    db_path.with_name(db_path.name + "-wal").write_bytes(b"stale wal")

    with caplog.at_level(logging.WARNING, logger="modelward.db"):
        db = Database(sqlite_url(db_path))
    try:
        db.save_download(DownloadRow("t2v-a14b", "queued", "normal", 0, 3))
        UsageLog(db).add("t2v-a14b", UsageData(duration_s=1.0, success=True, at=NOW))
        assert [r.model_id for r in db.load_downloads()] == ["t2v-a14b"]
        assert len(UsageLog(db).events(at(6, 1, 0), NOW + 1)) == 1
    finally:
        db.close()

    moved = sorted(p.name for p in db_path.parent.glob("modelward.db.corrupt-*"))
    [aside] = [db_path.with_name(n) for n in moved if not n.endswith("-wal")]
    assert aside.name.removeprefix("modelward.db.corrupt-").isdigit()  # unix time
    assert moved == [aside.name, aside.name + "-wal"]  # a pair SQLite could open together
    assert aside.read_bytes() == garbage
    assert aside.with_name(aside.name + "-wal").read_bytes() == b"stale wal"
    message = caplog.text
    assert "moved it aside" in message and aside.name in message
    for lost in ("queue order", "paused marks", "check history", "usage history", "requests"):
        assert lost in message
    assert "no model is lost" in message


def test_a_damaged_schema_is_moved_aside_too(db_path: Path) -> None:
    Database(sqlite_url(db_path)).close()
    damaged = bytearray(db_path.read_bytes())
    damaged[100:4096] = b"\xff" * 3996  # the header survives, the schema page does not
    db_path.write_bytes(bytes(damaged))

    db = Database(sqlite_url(db_path))
    try:
        assert db.load_downloads() == []
    finally:
        db.close()
    assert len(list(db_path.parent.glob("modelward.db.corrupt-*"))) == 1


def test_a_file_that_cannot_be_opened_is_not_moved(tmp_path: Path) -> None:
    # A folder where the file should be: SQLite cannot open it, but nothing is damaged.
    (tmp_path / "modelward.db").mkdir()
    with pytest.raises(StoreError) as raised:
        Database(sqlite_url(tmp_path / "modelward.db"))
    assert "never a model" in raised.value.hint
    assert (tmp_path / "modelward.db").is_dir()
    assert list(tmp_path.glob("*.corrupt-*")) == []


def test_other_databases_still_raise_store_error() -> None:
    with pytest.raises(StoreError):
        Database("postgresql+psycopg://nobody@127.0.0.1:1/modelward")


def test_an_older_table_gains_the_new_nullable_columns(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "CREATE TABLE usage_events (id INTEGER PRIMARY KEY, model_id VARCHAR(128) NOT NULL,"
            " at FLOAT NOT NULL, duration_s FLOAT NOT NULL, success BOOLEAN NOT NULL,"
            " quality_issue BOOLEAN NOT NULL, concurrent_loaded INTEGER NOT NULL)"
        )
        conn.execute(
            "INSERT INTO usage_events (model_id, at, duration_s, success, quality_issue,"
            " concurrent_loaded) VALUES ('t2v-a14b', ?, 12.5, 1, 0, 2)",
            (at(6, 30, 9),),
        )
    conn.close()

    with caplog.at_level(logging.INFO, logger="modelward.db"):
        db = Database(sqlite_url(db_path))
    try:
        [old] = UsageLog(db).events(at(6, 1, 0), NOW)
        UsageLog(db).add(
            "t2v-a14b", UsageData(duration_s=1.0, success=True, at=NOW - 1, commit="c")
        )
        events = UsageLog(db).events(at(6, 1, 0), NOW)
    finally:
        db.close()
    assert {"requested_model", "commit", "error"} <= _columns(db_path, "usage_events")
    assert old.usage.duration_s == 12.5 and old.usage.concurrent_loaded == 2
    assert old.usage.commit is None and old.usage.requested_model is None
    assert [e.usage.commit for e in events] == [None, "c"]
    assert "usage_events.commit" in caplog.text
    assert list(db_path.parent.glob("*.corrupt-*")) == []


def test_a_missing_required_column_is_refused_not_guessed(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE usage_events (id INTEGER PRIMARY KEY, model_id VARCHAR(128))")
        conn.execute("INSERT INTO usage_events (model_id) VALUES ('t2v-a14b')")
    conn.close()
    with pytest.raises(StoreError) as raised:
        Database(sqlite_url(db_path))
    assert "usage_events" in raised.value.message and "aside" in raised.value.hint
    with sqlite3.connect(db_path) as conn:  # nothing was changed or lost
        assert conn.execute("SELECT count(*) FROM usage_events").fetchone() == (1,)
    conn.close()
