"""Per-run counts from the local hub's request log: resolves, new connections, 429s, expiries.

Computed inside the hub's process (``bench.hub_server`` answers ``stats`` on its control
pipe) and read by the driver as JSON; this module imports nothing from modelward, so the
driver can use ``HubStats`` without importing the package under test.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

# A URL counts as expired after 90% of its stated lifetime, so a client that renews it a
# little before the expiry (as it should: a request must not start on a URL about to die)
# is not counted over its allowance.
LIFETIME_SHARE = 0.9


class LogRecord(Protocol):
    """The fields of ``modelward.devhub.RequestRecord`` the counts need."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query(self) -> dict[str, str]: ...
    @property
    def status(self) -> int: ...
    @property
    def bytes_sent(self) -> int: ...
    @property
    def started_at(self) -> float: ...
    @property
    def host(self) -> str: ...
    @property
    def new_connection(self) -> bool: ...
    @property
    def tls_resumed(self) -> bool | None: ...


@dataclass(frozen=True)
class HubStats:
    """What the hub saw during one client run."""

    requests: int = 0
    resolves: int = 0
    """``resolve`` requests (GET and HEAD), 429s included."""
    resolves_429: int = 0
    answered_429: int = 0
    """Every 429 (``resolve`` and ``/api`` calls)."""
    api_calls: int = 0
    hub_connections: int = 0
    cdn_connections: int = 0
    tls_resumed: int = 0
    """New connections whose TLS session was resumed."""
    cdn_403: int = 0
    """CDN refusals: expired (or bad) signed URLs."""
    file_bytes: int = 0
    """Body bytes of file responses (resolve and CDN, 200/206)."""
    files: int = 0
    """Distinct files resolved."""
    expiries: int = 0
    """URL lifetimes that ran out while a file was still being fetched (see ``expiries``)."""

    def to_dict(self) -> dict[str, int]:
        """As JSON."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> HubStats:
        """From ``to_dict``'s JSON (unknown keys ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: int(v) for k, v in raw.items() if k in names})


def resolved_file(path: str) -> str | None:
    """The repo file a ``/{org}/{name}/resolve/{rev}/{file}`` path names (None otherwise)."""
    if "/resolve/" not in path:
        return None
    tail = path.split("/resolve/", 1)[1]
    return unquote(tail.split("/", 1)[1]) if "/" in tail else None


def _is_file_body(r: LogRecord) -> bool:
    return (
        r.method == "GET"
        and r.status in (200, 206)
        and ("/resolve/" in r.path or r.path.startswith("/cdn-lfs/"))
    )


def expiries(records: Iterable[LogRecord], ttl_s: float | None) -> int:
    """Per file: how often ``LIFETIME_SHARE`` of the TTL passed between its first resolve
    and the start of its last CDN request (a perfect client resolves that many times more)."""
    if not ttl_s:
        return 0
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for r in records:
        name = resolved_file(r.path)
        if name is not None:
            first[name] = min(first.get(name, r.started_at), r.started_at)
        elif r.path.startswith("/cdn-lfs/") and "file" in r.query:
            name = unquote(r.query["file"])
            last[name] = max(last.get(name, r.started_at), r.started_at)
    lifetime = ttl_s * LIFETIME_SHARE
    return sum(max(0, math.floor((last[f] - first[f]) / lifetime)) for f in last if f in first)


def hub_stats(records: Sequence[LogRecord], ttl_s: float | None) -> HubStats:
    """Count one run's requests."""
    resolves = [r for r in records if "/resolve/" in r.path]
    new = [r for r in records if r.new_connection]
    return HubStats(
        requests=len(records),
        resolves=len(resolves),
        resolves_429=sum(r.status == 429 for r in resolves),
        answered_429=sum(r.status == 429 for r in records),
        api_calls=sum(r.path.startswith("/api/") for r in records),
        hub_connections=sum(r.host == "hub" for r in new),
        cdn_connections=sum(r.host == "cdn" for r in new),
        tls_resumed=sum(bool(r.tls_resumed) for r in new),
        cdn_403=sum(r.host == "cdn" and r.status == 403 for r in records),
        file_bytes=sum(r.bytes_sent for r in records if _is_file_body(r)),
        files=len({resolved_file(r.path) for r in resolves}),
        expiries=expiries(records, ttl_s),
    )
