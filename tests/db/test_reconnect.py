"""Reads and writes ride out a PostgreSQL restart, and a write is recorded exactly once even
when the connection breaks during its COMMIT (db_reconnect.py)."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from modelward.db import Database, DownloadRow, audit_log, downloads, sqlite_url
from modelward.errors import StoreError
from modelward.ops import AuditLog
from tests.pg import PostgresServer


@contextlib.contextmanager
def server_down(postgres: PostgresServer) -> Iterator[None]:
    """The server stopped for the ``with``, started again after it whatever happens."""
    postgres.stop()
    try:
        yield
    finally:
        if not postgres.is_running():
            postgres.start()


def _actions(db: Database) -> list[str]:
    query = select(audit_log.c.action).order_by(audit_log.c.id)
    return [str(a) for a in db.read(lambda conn: conn.execute(query).scalars().all())]


def test_a_write_asked_while_the_server_is_down_lands_once_it_is_back(
    postgres: PostgresServer,
) -> None:
    db = Database(postgres.create_database(), reconnect_s=30)
    audit = AuditLog(db)
    try:
        audit.record("alice", "before")  # the pool holds a connection the stop will break
        outcome: list[object] = []
        with server_down(postgres):
            writer = threading.Thread(
                target=lambda: outcome.append(audit.record("alice", "while-down") or "ok")
            )
            writer.start()
            time.sleep(2)
            assert writer.is_alive()  # waiting for the server, not failed
        writer.join(30)
        assert outcome == ["ok"]
        assert _actions(db) == ["before", "while-down"]
        assert [r.model_id for r in db.load_downloads()] == []  # reads work again too
    finally:
        db.close()


def test_a_stream_of_writes_across_a_restart_loses_and_doubles_nothing(
    postgres: PostgresServer,
) -> None:
    db = Database(postgres.create_database(), reconnect_s=30)
    audit = AuditLog(db)
    stop = threading.Event()
    written: list[str] = []
    failures: list[BaseException] = []

    def write_until_stopped() -> None:
        try:
            while not stop.is_set():
                name = f"n{len(written)}"
                audit.record("alice", name)
                written.append(name)
                db.save_download(DownloadRow("ti2v-5b", "downloading", "normal", len(written), 3))
        except BaseException as exc:  # any failure is one: reported by the assertion below
            failures.append(exc)

    writer = threading.Thread(target=write_until_stopped)
    writer.start()
    try:
        time.sleep(0.5)
        postgres.restart(down_s=2)
        time.sleep(0.5)
    finally:
        stop.set()
        writer.join(60)
    try:
        assert failures == []
        assert len(written) > 10
        assert _actions(db) == written  # each once, in order
        [row] = db.load_downloads()
        assert row.position == len(written)
    finally:
        db.close()


class CommitCutter:
    """A TCP relay to PostgreSQL that, once armed, passes a COMMIT to the server, lets it
    commit, then cuts the connection before the answer reaches the client: the one case
    where the client cannot know whether its write landed."""

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.armed = threading.Event()
        self.cut = threading.Event()
        self._holding = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, to_server: bool) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                cutting = to_server and self.armed.is_set() and b"COMMIT" in data
                if cutting:
                    self.armed.clear()
                    self._holding = True  # from now on the server's answers are dropped
                if not to_server and self._holding:
                    continue
                dst.sendall(data)
                if cutting:
                    time.sleep(0.3)  # the server commits meanwhile
                    self.cut.set()
                    for end in (src, dst):
                        end.shutdown(socket.SHUT_RDWR)
                    self._holding = False
                    return

    def close(self) -> None:
        self._listener.close()


def test_a_commit_cut_off_after_it_landed_is_not_written_twice(
    postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    name = postgres.create_database().rsplit("/", 1)[1]
    cutter = CommitCutter(postgres.port)
    db = Database(postgres.url_of(name).replace(f":{postgres.port}/", f":{cutter.port}/"))
    try:
        cutter.armed.set()
        with caplog.at_level(logging.INFO, logger="modelward.db_reconnect"):
            AuditLog(db).record("alice", "pull", model_id="ti2v-5b")
        assert cutter.cut.is_set()  # the COMMIT's answer was really lost
        assert "connection broke committed" in caplog.text
        assert _actions(db) == ["pull"]  # a blind retry would have written it twice
    finally:
        db.close()
        cutter.close()


def test_a_server_gone_longer_than_the_bound_fails_with_a_store_error(
    postgres: PostgresServer,
) -> None:
    db = Database(postgres.create_database(), reconnect_s=1.5)
    try:
        with server_down(postgres):
            began = time.monotonic()
            with pytest.raises(StoreError) as gave_up:
                AuditLog(db).record("alice", "pull")
            assert 1.5 <= time.monotonic() - began < 10
        assert "did not come back within 2 s" in gave_up.value.message
        assert "MODELWARD_DATABASE_URL" in (gave_up.value.hint or "")
    finally:
        db.close()


def test_errors_that_are_not_a_lost_connection_are_not_retried(tmp_path: object) -> None:
    db = Database(sqlite_url(tmp_path / "modelward.db"))  # type: ignore[operator]
    row = {"node": "gpu-1", "model_id": "m", "state": "queued", "priority": "normal",
           "position": 0, "max_retries": 3, "updated_at": 0.0}  # fmt: skip
    try:
        db.write(lambda conn: conn.execute(insert(downloads).values(**row)))
        began = time.monotonic()
        with pytest.raises(IntegrityError):
            db.write(lambda conn: conn.execute(insert(downloads).values(**row)))
        assert time.monotonic() - began < 1
        count = select(func.count()).select_from(downloads)
        assert db.read(lambda conn: conn.execute(count).scalar()) == 1
    finally:
        db.close()
