"""MODELWARD_DATABASE_URL: which URLs open which driver, and every way of failing to connect
said as a StoreError with a hint, never a traceback (the CLI exits 2 with it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelward.db import Database, normalize_url
from modelward.errors import StoreError
from tests.pg import PostgresServer


def _plain(url: str) -> str:
    """``url`` without the ``+psycopg`` the test server's URLs carry."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the with ends: nothing listens


def test_a_plain_postgresql_url_uses_psycopg(postgres: PostgresServer) -> None:
    db = Database(_plain(postgres.create_database()))
    try:
        assert (db.engine.dialect.name, db.engine.dialect.driver) == ("postgresql", "psycopg")
        assert db.engine.pool._pre_ping  # type: ignore[attr-defined]
    finally:
        db.close()


def test_the_postgres_alias_is_accepted(postgres: PostgresServer) -> None:
    url = _plain(postgres.create_database()).replace("postgresql://", "postgres://")
    assert normalize_url(url).startswith("postgresql://")
    db = Database(url)
    try:
        assert db.engine.dialect.name == "postgresql"
        assert db.load_downloads() == []
    finally:
        db.close()


def test_sqlite_urls_are_left_as_they_are() -> None:
    assert normalize_url("sqlite:////home/x/modelward.db") == "sqlite:////home/x/modelward.db"


def test_a_missing_driver_names_the_extra_to_install() -> None:
    # psycopg2 is not installed here (modelward's extra is psycopg 3).
    with pytest.raises(StoreError) as refused:
        Database("postgresql+psycopg2://modelward@127.0.0.1:5432/modelward")
    assert 'pip install "modelward[postgres]"' in (refused.value.hint or "")


def test_an_unreachable_server_is_said_at_once_with_where_it_was_looked_for() -> None:
    port = _closed_port()
    began = time.monotonic()
    with pytest.raises(StoreError) as refused:
        Database(f"postgresql://modelward:s3cret@127.0.0.1:{port}/modelward")
    assert time.monotonic() - began < 10  # opening does not wait for a server to appear
    error = refused.value
    assert "cannot open the database" in error.message
    assert f"127.0.0.1:{port}" in (error.hint or "")
    assert "s3cret" not in error.message + (error.hint or "")  # the password is never shown
    assert "***" in error.message


def test_a_refused_login_points_at_the_user_and_password(postgres: PostgresServer) -> None:
    url = postgres.url.replace("://modelward@", "://nobody:s3cret@")
    with pytest.raises(StoreError) as refused:
        Database(url)
    assert "nobody" in refused.value.message
    assert "user name and password" in (refused.value.hint or "")
    assert "s3cret" not in refused.value.message


def test_a_missing_database_says_how_to_create_it(postgres: PostgresServer) -> None:
    with pytest.raises(StoreError) as refused:
        Database(postgres.url_of("no_such_db"))
    assert "createdb no_such_db" in (refused.value.hint or "")


def test_the_cli_says_an_unreachable_database_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    env.update(
        MODELWARD_HOME=str(tmp_path / "home"),
        HF_HUB_CACHE=str(tmp_path / "cache"),
        HF_ENDPOINT="http://127.0.0.1:9",
        MODELWARD_DATABASE_URL=f"postgresql://modelward@127.0.0.1:{_closed_port()}/modelward",
    )
    done = subprocess.run(
        [sys.executable, "-m", "modelward", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (1, 2), done.stdout + done.stderr  # the CLI's own exits
    assert "Traceback" not in done.stderr
    assert "cannot open the database" in done.stderr
    assert "next step: Check that the database server runs" in done.stderr
