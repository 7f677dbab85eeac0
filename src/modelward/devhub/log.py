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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form served at ``GET /_devhub/log``."""
        raw = dataclasses.asdict(self)
        raw["faults"] = list(self.faults)
        return raw
