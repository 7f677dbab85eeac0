"""One node fetches each blob from the Hub for the whole team: a lease row in the shared
database (``blob_leases``) says which node, until when, and how far it got.

Claims are compare-and-set statements that work the same on SQLite and PostgreSQL: a new
row is inserted only if there is none (ON CONFLICT DO NOTHING), and a lapsed one is taken
over only by the update that still sees it lapsed; so two nodes never both lead. The
leader renews its lease while it works (the row carries its progress, which the waiting
nodes show); a leader killed mid-blob stops renewing, and after ``ttl_s`` another node
takes over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from modelward.db import Database, blob_leases, upsert

FETCHING = "fetching"
PUBLISHING = "publishing"
PUBLISHED = "published"


@dataclass(frozen=True, slots=True)
class LeaseView:
    """A blob's lease as the database holds it now."""

    blob: str
    holder: str
    state: str
    size_bytes: int
    bytes_done: int
    expires_at: float

    @property
    def share(self) -> float:
        """How far the leader got: fetching counts for half, publishing the other half."""
        if self.state == PUBLISHED:
            return 1.0
        if not self.size_bytes:
            return 0.0
        done = self.bytes_done / self.size_bytes
        return min(1.0, (done + 1.0) / 2 if self.state == PUBLISHING else done / 2)

    def lapsed(self, now: float | None = None) -> bool:
        """Whether the leader stopped renewing (killed, or cut off) long enough ago."""
        return self.state != PUBLISHED and self.expires_at < (now or time.time())


class BlobLeases:
    """This node's side of the team's blob leases (blocking calls: run them in a thread)."""

    def __init__(self, db: Database, node: str, ttl_s: float) -> None:
        self._db = db
        self.node = node
        self.ttl_s = ttl_s

    def claim(self, blob: str, mirror: str, size_bytes: int) -> LeaseView:
        """Lead ``blob`` if nobody does (or the leader lapsed); the lease as it stands after
        (``holder == self.node``: this node leads)."""
        now = time.time()
        row = {
            "blob": blob,
            "holder": self.node,
            "mirror": mirror,
            "size_bytes": size_bytes,
            "bytes_done": 0,
            "state": FETCHING,
            "expires_at": now + self.ttl_s,
            "updated_at": now,
        }
        while True:
            self._db.write(lambda conn: upsert(conn, blob_leases, row, ("blob",), replace=False))
            current = self.peek(blob)
            if current is not None and current.lapsed(now):
                self._take_over(current, now)
                current = self.peek(blob)
            if current is not None:
                return current
            # Given up or forgotten by another node between the two statements: again.

    def _take_over(self, lapsed: LeaseView, now: float) -> None:
        self._db.write(
            lambda conn: conn.execute(
                update(blob_leases)
                .where(
                    blob_leases.c.blob == lapsed.blob,
                    blob_leases.c.holder == lapsed.holder,
                    blob_leases.c.expires_at == lapsed.expires_at,
                )
                .values(
                    holder=self.node,
                    # The new leader fetches what it lacks, then continues the upload.
                    state=FETCHING,
                    bytes_done=0,
                    expires_at=now + self.ttl_s,
                    updated_at=now,
                )
            )
        )

    def renew(self, blob: str, bytes_done: int, state: str = FETCHING) -> bool:
        """Extend this node's lease and record its progress; False once another node took
        it over."""
        now = time.time()
        statement = (
            update(blob_leases)
            .where(
                blob_leases.c.blob == blob,
                blob_leases.c.holder == self.node,
                # A renew still in flight when the lease ended must not reopen it.
                blob_leases.c.state != PUBLISHED,
            )
            .values(bytes_done=bytes_done, state=state, expires_at=now + self.ttl_s, updated_at=now)
        )
        return bool(self._db.write(lambda conn: conn.execute(statement).rowcount))

    def published(self, blob: str) -> None:
        """The blob is in the mirror: every waiting node can take it from there."""
        statement = (
            update(blob_leases)
            .where(blob_leases.c.blob == blob, blob_leases.c.holder == self.node)
            .values(bytes_done=blob_leases.c.size_bytes, state=PUBLISHED, updated_at=time.time())
        )
        self._db.write(lambda conn: conn.execute(statement))

    def give_up(self, blob: str) -> None:
        """This node cannot publish the blob: free the lease so another node may lead."""
        statement = delete(blob_leases).where(
            blob_leases.c.blob == blob, blob_leases.c.holder == self.node
        )
        self._db.write(lambda conn: conn.execute(statement))

    def forget_published(self, blob: str) -> None:
        """The mirror no longer holds a blob its lease says was published (pruned, or
        refused as bad): drop the row, so a node leads it again."""
        statement = delete(blob_leases).where(
            blob_leases.c.blob == blob, blob_leases.c.state == PUBLISHED
        )
        self._db.write(lambda conn: conn.execute(statement))

    def peek(self, blob: str) -> LeaseView | None:
        """The blob's lease now (None: nobody leads it)."""
        statement = select(blob_leases).where(blob_leases.c.blob == blob)
        row = self._db.read(lambda conn: conn.execute(statement).first())
        if row is None:
            return None
        return LeaseView(
            row.blob, row.holder, row.state, row.size_bytes, row.bytes_done, row.expires_at
        )


def waiting_for(lease: LeaseView) -> str:
    """The words progress shows while another node fetches the blob for the team."""
    return f"waiting for {lease.holder} to publish: {lease.share * 100:.0f}%"
