"""Schema migrations (db_migrations/): from empty and from a pre-Alembic database, on SQLite
and PostgreSQL; the migrations agree with db.py's metadata; starters take turns; an
up-to-date database opens with one query and without importing Alembic."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine

from modelward.db import Database, download_outcomes, metadata, sqlite_url, usage_events
from modelward.db_migrations import HEAD, compare_type, current_revision, ensure_schema
from modelward.db_migrations.runner import config, upgrade
from modelward.errors import StoreError
from tests.pg import PostgresServer

FIVE_GB = 5_000_000_000


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each dialect (a new PostgreSQL database per test)."""
    if request.param == "sqlite":
        (tmp_path / "home").mkdir()
        return sqlite_url(tmp_path / "home" / "modelward.db")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture
def engine_of() -> Iterator[Any]:
    engines: list[Engine] = []

    def make(url: str) -> Engine:
        engines.append(create_engine(url))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": compare_type})
        return list(compare_metadata(context, metadata))


def test_head_is_the_newest_revision_in_versions() -> None:
    assert ScriptDirectory.from_config(config()).get_current_head() == HEAD


def test_an_empty_database_is_migrated_to_head_matching_the_metadata(
    empty_url: str, engine_of: Any
) -> None:
    db = Database(empty_url)
    db.close()
    engine = engine_of(empty_url)
    assert set(inspect(engine).get_table_names()) == {*metadata.tables, "alembic_version"}
    assert current_revision(engine) == HEAD
    assert _differences(engine) == []  # every table, column, type and index as db.py says
    # A byte count past 2 GB fits (PostgreSQL's INTEGER would overflow).
    with engine.begin() as conn:
        conn.execute(insert(download_outcomes).values(_outcome(FIVE_GB)))
        assert conn.execute(select(download_outcomes.c.bytes_fetched)).scalar() == FIVE_GB


def test_alembic_from_empty_makes_the_same_schema_and_agrees_with_the_stamp(
    empty_url: str, engine_of: Any
) -> None:
    engine = engine_of(empty_url)
    upgrade(engine, metadata)  # the baseline revision itself, as Alembic runs it
    assert current_revision(engine) == HEAD
    assert _differences(engine) == []
    upgrade(engine, metadata)  # again: nothing to do
    assert current_revision(engine) == HEAD


def test_a_database_made_without_alembic_is_at_head_for_alembic_too(
    empty_url: str, engine_of: Any
) -> None:
    Database(empty_url).close()  # new: db.py's tables made directly and stamped
    engine = engine_of(empty_url)
    upgrade(engine, metadata)  # Alembic finds it at head: no revision runs, nothing fails
    assert current_revision(engine) == HEAD and _differences(engine) == []


def _outcome(size: int) -> dict[str, object]:
    return {"model_id": "ti2v-5b", "at": 1.0, "status": "completed", "retries": 0,
            "bytes_fetched": size, "elapsed_s": 2.0}  # fmt: skip


def _pre_alembic_tables(md: MetaData) -> None:
    """Two tables as a modelward before migrations made them: usage_events without the
    columns added since, download_outcomes counting bytes in an INTEGER."""
    Table(
        "usage_events",
        md,
        Column("id", Integer, primary_key=True),
        Column("model_id", String(128), nullable=False),
        Column("at", Float, nullable=False),
        Column("duration_s", Float, nullable=False),
        Column("success", Boolean, nullable=False),
        Column("quality_issue", Boolean, nullable=False),
        Column("concurrent_loaded", Integer, nullable=False),
    )
    Table(
        "download_outcomes",
        md,
        Column("id", Integer, primary_key=True),
        Column("model_id", String(128), nullable=False, index=True),
        Column("at", Float, nullable=False, index=True),
        Column("status", String(16), nullable=False),
        Column("error_code", String(64)),
        Column("retries", Integer, nullable=False),
        Column("bytes_fetched", Integer, nullable=False),
        Column("elapsed_s", Float, nullable=False),
    )


def test_a_pre_alembic_database_keeps_its_rows_and_is_brought_to_head(
    empty_url: str, engine_of: Any
) -> None:
    engine = engine_of(empty_url)
    old = MetaData()
    _pre_alembic_tables(old)
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(old.tables["usage_events"]).values(
                model_id="t2v-a14b", at=5, duration_s=12.5, success=True, quality_issue=False,
                concurrent_loaded=2,
            )
        )  # fmt: skip
        conn.execute(insert(old.tables["download_outcomes"]).values(_outcome(1_000_000)))
    engine.dispose()

    Database(empty_url).close()

    assert current_revision(engine) == HEAD
    assert _differences(engine) == []  # columns added, INTEGER widened, missing tables made
    with engine.begin() as conn:
        usage = select(usage_events.c.model_id, usage_events.c.duration_s, usage_events.c.commit)
        assert conn.execute(usage).all() == [("t2v-a14b", 12.5, None)]
        conn.execute(insert(download_outcomes).values(_outcome(FIVE_GB)))
        sizes = conn.execute(select(download_outcomes.c.bytes_fetched)).scalars().all()
    assert sorted(sizes) == [1_000_000, FIVE_GB]


def test_an_old_sqlite_home_file_opens_with_its_queue(tmp_path: Path, engine_of: Any) -> None:
    # The file a modelward before migrations left in MODELWARD_HOME: made by create_all of
    # its own tables, with a queued download in it.
    path = tmp_path / "modelward.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE downloads (model_id VARCHAR(128) NOT NULL PRIMARY KEY,"
            " state VARCHAR(16) NOT NULL, priority VARCHAR(16) NOT NULL, position INTEGER NOT NULL,"
            " max_retries INTEGER NOT NULL, updated_at FLOAT NOT NULL)"
        )
        conn.execute("INSERT INTO downloads VALUES ('ti2v-5b', 'paused', 'high', 0, 3, 1.0)")
    conn.close()

    db = Database(sqlite_url(path))
    try:
        assert [(r.model_id, r.state) for r in db.load_downloads()] == [("ti2v-5b", "paused")]
    finally:
        db.close()
    engine = engine_of(sqlite_url(path))
    assert current_revision(engine) == HEAD and _differences(engine) == []


def test_a_database_of_a_newer_modelward_is_refused(empty_url: str, engine_of: Any) -> None:
    Database(empty_url).close()
    with engine_of(empty_url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError) as refused:
        Database(empty_url)
    assert "newer modelward" in refused.value.message
    assert "Upgrade modelward" in (refused.value.hint or "")


def test_an_up_to_date_database_opens_with_one_query(empty_url: str, engine_of: Any) -> None:
    Database(empty_url).close()
    engine = engine_of(empty_url)
    engine.connect().close()  # the dialect's own first-connection queries are not ours
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    ensure_schema(engine, metadata)
    assert statements == ["SELECT version_num FROM alembic_version"]


def _open_in_a_process(url: str) -> subprocess.Popen[str]:
    code = (
        "import sys, time\n"
        "from modelward.db import Database\n"
        f"began = time.perf_counter(); Database({url!r}).close()\n"
        "print(f'{time.perf_counter() - began:.4f}', 'alembic' in sys.modules)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_opening_a_new_or_up_to_date_home_imports_no_alembic(tmp_path: Path) -> None:
    # Importing Alembic takes about 0.4 s; `modelward status` opens the database every run.
    url = sqlite_url(tmp_path / "modelward.db")
    for case in ("new", "up to date"):
        opened = _open_in_a_process(url)
        out, err = opened.communicate(timeout=60)
        assert opened.returncode == 0, err
        seconds, imported = out.split()
        assert imported == "False", case
        assert float(seconds) < 0.3, case  # about 60 ms new and 10 ms up to date here


@pytest.mark.parametrize("starters", [4])
def test_services_starting_at_once_on_an_empty_postgresql_take_turns(
    postgres: PostgresServer, starters: int, engine_of: Any
) -> None:
    url = postgres.create_database()
    began = time.monotonic()
    procs = [_open_in_a_process(url) for _ in range(starters)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err  # none saw a half-made schema or a duplicate table
    assert time.monotonic() - began < 60
    engine = engine_of(url)
    assert current_revision(engine) == HEAD and _differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_byte_count_columns_are_bigint_in_the_metadata() -> None:
    for table in metadata.tables.values():
        for column in table.columns:
            if "bytes" in column.name:
                assert isinstance(column.type, BigInteger), f"{table.name}.{column.name}"
