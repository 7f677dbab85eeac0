"""A real PostgreSQL for the tests: Debian's ``postgresql`` package (``./dev test`` installs
it), a server of its own per test session in a temporary directory, on loopback only.

``postgres`` is the server (``url``, ``restart()``, ``stop()``/``start()``,
``create_database()``); ``postgres_url`` its SQLAlchemy URL. PostgreSQL refuses to run as
root, so as root (the CI machine) initdb and pg_ctl run as the ``postgres`` user the Debian
package creates, in a directory that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

SUPERUSER = "modelward"
"""The cluster's superuser (``initdb -U``); local and loopback connections need no password."""
DATABASE = "modelward"
"""The database ``postgres_url`` names, created when the server first starts."""
RUN_AS = "postgres"
"""The account the server runs under when the tests run as root (created by the Debian
package; made here as a system user if missing)."""

_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
# A throwaway cluster: durability against power loss buys nothing here, a fast start does.
# A clean restart (pg_ctl restart) still keeps every committed row.
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 200
log_min_messages = warning
"""


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL program: on PATH, else Debian's /usr/lib/postgresql/<ver>/bin
    (the newest version installed)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    candidates.sort(key=lambda p: _version_of(Path(p).parent.parent.name), reverse=True)
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL's {name} is not installed: run ./dev test (it installs Debian's "
            "postgresql package) or apt-get install postgresql"
        )
    return candidates[0]


def _version_of(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_user(name: str) -> pwd.struct_passwd:
    """The account ``name``, made as a system user when missing (as root only)."""
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(name)
    subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return pwd.getpwnam(name)


class PostgresServer:
    """One PostgreSQL cluster in ``root``, listening on 127.0.0.1:``port`` (kept across
    restarts, so URLs stay valid) with its unix socket in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = _free_port()
        self.start_s = 0.0
        """Seconds the first start took: initdb, server start and the database created."""
        self._as: list[str] = []
        if os.geteuid() == 0:
            account = _ensure_user(RUN_AS)
            os.chown(root, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", RUN_AS, "--"]

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``modelward`` database (driver psycopg)."""
        return self.url_of(DATABASE)

    def url_of(self, database: str) -> str:
        """SQLAlchemy URL of another database on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        # Settings of the developer's own PostgreSQL (PGHOST, PGPORT...) do not apply here.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
        done = subprocess.run(
            [*self._as, *args],
            env=env,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n"
                f"server log:\n{log}"
            )

    def init(self) -> None:
        """initdb, the settings, the first start and the ``modelward`` database."""
        began = time.monotonic()
        self._run(
            pg_bin("initdb"), "--pgdata", str(self.data), "--username", SUPERUSER,
            "--auth", "trust", "--encoding", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(_SETTINGS.format(port=self.port, sockets=self.root))
        self.start()
        self.create_database(DATABASE)
        self.start_s = time.monotonic() - began

    def start(self) -> None:
        """Start the server; returns once it accepts connections."""
        self._run(pg_bin("pg_ctl"), "start", "--pgdata", str(self.data), "--log", str(self.log),
                  "--wait", "--timeout", "30")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back open transactions and disconnect clients;
        ``immediate``: as a crash, recovered from the WAL at the next start)."""
        self._run(pg_bin("pg_ctl"), "stop", "--pgdata", str(self.data), "--mode", mode,
                  "--wait", "--timeout", "30")  # fmt: skip

    def restart(self, down_s: float = 0.0, mode: str = "fast") -> None:
        """Stop the server, stay down ``down_s`` seconds, start it again on the same port.
        Clients' open connections break; committed data stays."""
        self.stop(mode)
        time.sleep(down_s)
        self.start()

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str | None = None) -> str:
        """A new empty database (a unique name unless given); its SQLAlchemy URL."""
        import psycopg  # here, not at the top: collecting the suite needs no driver
        from psycopg import sql

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_of(name)

    def destroy(self) -> None:
        """Stop the server if it runs and delete its directory."""
        try:
            if self.is_running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL for the ``with``, removed after it."""
    # Under /tmp itself, not pytest's tmp_path: the postgres account must reach the
    # directory, and pytest's base directories are private to the user running the tests.
    root = Path(tempfile.mkdtemp(prefix="modelward-pg-"))
    server = PostgresServer(root)
    try:
        server.init()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (started on first use, stopped after the session)."""
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://...``) of the session's ``modelward`` database."""
    return postgres.url
