"""The request log: one record per request, as sent on the wire."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestRecord:
    """One request: what was asked, what was answered, how many body bytes went out."""

    method: str
    path: str
    query: dict[str, str]
    range: str | None
    status: int
    bytes_sent: int
    started_at: float
    duration_s: float
    connection_id: int
    faults: tuple[str, ...] = ()
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    new_connection: bool = False  # the first request on its connection
    host: str = "hub"  # "hub" or "cdn": which origin the request went to
    tls_resumed: bool | None = None  # None on plain HTTP

    def to_dict(self) -> dict[str, Any]:
        """The JSON form served at ``GET /_devhub/log``."""
        raw = dataclasses.asdict(self)
        raw["faults"] = list(self.faults)
        return raw


def resolve_count(log: list[RequestRecord]) -> int:
    """How many ``resolve`` requests the log holds."""
    return sum("/resolve/" in r.path for r in log)


def new_connections(log: list[RequestRecord], host: str | None = None) -> int:
    """How many connections the log's requests opened, on ``host`` ("hub"/"cdn") or on both."""
    return sum(r.new_connection and (host is None or r.host == host) for r in log)
