"""What the fleet benchmark measures around a run: CPU of whole process trees, disk
sampled while it runs, and PostgreSQL's transaction counters (the database load).

Like the rest of the driver it imports nothing from modelward; PostgreSQL is read with
psycopg directly, from the ``postgres`` database so the reads never count against the
fleet's own database.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.procs import bytes_on_disk, descendants, proc_cpu_s

DISK_SAMPLE_S = 0.5
LEASE_POLL_S = 1.0


def tree_cpu_s(pid: int) -> float:
    """CPU of ``pid``, its reaped children and every live descendant (so far)."""
    return proc_cpu_s(pid) + sum(proc_cpu_s(p) for p in descendants({pid}))


def postmaster_pid(data_dir: Path) -> int:
    """The PostgreSQL server's pid, from ``postmaster.pid``'s first line."""
    return int((data_dir / "postmaster.pid").read_text().split()[0])


class DiskPeak:
    """Samples the bytes under some roots in a thread; ``peak`` is the highest seen."""

    def __init__(self, measure: Callable[[], int]) -> None:
        self._measure = measure
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DiskPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)
        self.peak = max(self.peak, self._measure())

    def _run(self) -> None:
        while not self._stop.wait(DISK_SAMPLE_S):
            # A directory removed while it is walked (a client's temporary one): skip it.
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, self._measure())


def allocated_bytes(roots: Iterable[Path]) -> int:
    """Bytes really allocated under ``roots`` (sparse files count what they hold)."""
    return bytes_on_disk(roots)


@dataclass(frozen=True)
class Xacts:
    """PostgreSQL's committed + rolled-back transaction count of one database, at a time."""

    t: float
    count: int


class PgStats:
    """Reads ``pg_stat_database`` of one server (a short connection per read)."""

    def __init__(self, port: int, user: str) -> None:
        self.port, self.user = port, user

    def xacts(self, database: str) -> Xacts:
        """Transactions of ``database`` so far (flushed by backends at most ~1 s late when
        busy, up to 10 s when idle: compare readings taken over windows much longer)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            row = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                (database,),
            ).fetchone()
        return Xacts(time.monotonic(), int(row[0]) if row else 0)

    def rows(self, database: str, query: str) -> list[tuple[object, ...]]:
        """The rows of ``query`` on ``database``."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname=database, autocommit=True
        ) as conn:
            return list(conn.execute(query).fetchall())

    def execute(self, statement: str) -> None:
        """Run one statement on the ``postgres`` database."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(statement)


_TIMELINE_QUERY = (
    "SELECT blob, state, (SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database()) FROM blob_leases"
)


class LeaseTimeline:
    """Polls the fleet's ``blob_leases`` in a thread: when each blob was first seen
    publishing (fetched from the Hub) and published (in the mirror), in seconds since
    ``started``."""

    def __init__(self, stats: PgStats, database: str, started: float) -> None:
        self._stats, self._database, self._started = stats, database, started
        self.fetched: dict[str, float] = {}
        self.published: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

        self.polls = 0
        self.connections = 0
        """The most connections the nodes held to the database at once."""
        """Reads made: each is one transaction on the fleet's database, taken off its load."""

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (before the database's counters are read)."""
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        import psycopg

        while not self._stop.wait(LEASE_POLL_S):
            self.polls += 1
            try:
                rows = self._stats.rows(self._database, _TIMELINE_QUERY)
            except psycopg.Error:  # the table is made by the first node's migration
                continue
            # Every row carries the database's connection count (ours included).
            self.connections = max(
                self.connections, max((int(str(r[2])) - 1 for r in rows), default=0)
            )
            now = time.monotonic() - self._started
            for blob, state, _ in rows:
                if state in ("publishing", "published"):
                    self.fetched.setdefault(str(blob), now)
                if state == "published":
                    self.published.setdefault(str(blob), now)


def rate(a: Xacts, b: Xacts) -> float:
    """Transactions per second between two readings."""
    return (b.count - a.count) / max(b.t - a.t, 1e-9)
