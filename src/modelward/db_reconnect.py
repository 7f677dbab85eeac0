"""Riding out a database server restart: reads and writes that fail because the connection
broke (or the server is not accepting connections yet) are tried again for a bounded time.

Only PostgreSQL is retried; SQLite has no server to lose, and its own errors (a full disk, a
damaged file) mean something else. A write is retried only when it surely did not commit:
its transaction id is taken just before COMMIT, and when the connection breaks during the
COMMIT itself, ``pg_xact_status`` on a new connection says whether it landed, so a retried
write is written once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from modelward.errors import StoreError

logger = logging.getLogger(__name__)

T = TypeVar("T")

RECONNECT_S = 60.0
"""How long a read or write waits for the server to come back before it fails."""
FIRST_WAIT_S = 0.1
LONGEST_WAIT_S = 2.0

_LOGIN_STATES = ("28000", "28P01")
_LOGIN_WORDS = ("password authentication failed", "no pg_hba.conf entry")


class Reconnecting:
    """Runs a read or a write against ``engine``, again after a lost connection."""

    def __init__(self, engine: Engine, reconnect_s: float = RECONNECT_S) -> None:
        self.engine = engine
        self.reconnect_s = reconnect_s
        self._retries = engine.dialect.name == "postgresql"

    def read(self, fn: Callable[[Connection], T]) -> T:
        """``fn(conn)`` on a connection of its own; tried again after a lost connection."""
        tries = _Tries(self)
        while True:
            try:
                with self.engine.connect() as conn:
                    return fn(conn)
            except DBAPIError as exc:
                tries.wait_or_raise(exc)

    def write(self, fn: Callable[[Connection], T], *, serialize: str | None = None) -> T:
        """``fn(conn)`` in one transaction, committed once; tried again after a lost
        connection. ``serialize``: a name writers of the same thing wait for each other on
        (for a read-then-write that two services must not interleave)."""
        tries = _Tries(self)
        while True:
            xid: str | None = None
            committing = False
            try:
                with self.engine.connect() as conn:
                    with conn.begin():
                        _serialize(conn, serialize)
                        result = fn(conn)
                        xid = self._xid(conn)
                        committing = True
                    return result
            except DBAPIError as exc:
                if committing and xid is not None and self._committed(xid, tries, exc):
                    return result
                tries.wait_or_raise(exc)

    def _xid(self, conn: Connection) -> str | None:
        # Assigns the transaction its id if it wrote nothing yet; a round trip on loopback.
        if not self._retries:
            return None
        return str(conn.exec_driver_sql("SELECT pg_current_xact_id()::text").scalar())

    def _committed(self, xid: str, tries: _Tries, lost: DBAPIError) -> bool:
        """Whether the transaction whose COMMIT lost its connection committed after all."""
        if not _retryable(lost):
            return False
        while True:
            tries.wait_or_raise(lost)
            try:
                with self.engine.connect() as conn:
                    state = conn.exec_driver_sql(
                        "SELECT pg_xact_status(%(xid)s::xid8)", {"xid": xid}
                    ).scalar()
            except DBAPIError as exc:
                lost = exc
                continue
            if state != "in progress":
                logger.info("database: the write whose connection broke %s", state)
                return state == "committed"


class _Tries:
    """The backoff and the deadline of one read or write."""

    def __init__(self, owner: Reconnecting) -> None:
        self._owner = owner
        self._deadline: float | None = None
        self._wait = FIRST_WAIT_S

    def wait_or_raise(self, exc: DBAPIError) -> None:
        """Sleep before the next try; re-raise ``exc`` when it is not a lost connection,
        and a StoreError once the server stayed away too long."""
        if not self._owner._retries or not _retryable(exc):
            raise exc
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self._owner.reconnect_s
            logger.warning(
                "database connection lost (%s); trying again for up to %.0f s",
                _reason(exc),
                self._owner.reconnect_s,
            )
        if now >= self._deadline:
            raise StoreError(
                f"the database server did not come back within {self._owner.reconnect_s:.0f} s: "
                f"{_reason(exc)}",
                hint="Check that the PostgreSQL server of MODELWARD_DATABASE_URL runs and "
                "accepts connections; what was not recorded is retried by the next command.",
            ) from exc
        time.sleep(min(self._wait, self._deadline - now))
        self._wait = min(self._wait * 2, LONGEST_WAIT_S)


def _serialize(conn: Connection, name: str | None) -> None:
    """Make writers of ``name`` wait for each other until this transaction ends."""
    if name is None:
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext(%(name)s))", {"name": name})
    elif conn.dialect.name == "sqlite":
        # pysqlite starts a transaction only at the first write: take the write lock now.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _retryable(exc: DBAPIError) -> bool:
    """A broken connection or a server not (yet) accepting: not a refused login or a
    missing database, which waiting does not fix."""
    if exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError) and refusal(exc) is None


def refusal(exc: DBAPIError) -> str | None:
    """``"login"`` when the server refused the user or password, ``"database"`` when the
    database does not exist: waiting fixes neither. psycopg gives no SQLSTATE for a refused
    connection, so the server's words are read too."""
    state = getattr(exc.orig, "sqlstate", None)
    said = str(exc.orig)
    missing_role = 'role "' in said and "does not exist" in said
    if state in _LOGIN_STATES or missing_role or any(w in said for w in _LOGIN_WORDS):
        return "login"
    if state == "3D000" or ("database " in said and "does not exist" in said):
        return "database"
    return None


def _reason(exc: DBAPIError) -> str:
    """The driver's message, first line only (no SQL, no parameters)."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__
