"""What modelward knows about a model's versions, kept under ``MODELWARD_HOME/records/updates``.

The ref in the cache says which commit is served; this record adds what a person needs to
decide and undo: the newest commit upstream and when that was asked, the commit served
before the last switch (kept on disk until the new one has proven itself), how the new one
has done since, and the policy. Written atomically, one file per model, so a crash leaves
the old record or the new one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from modelward.store.records import read_json, write_json_atomic


class UpdatePolicy(StrEnum):
    """What happens when a newer version appears upstream."""

    NOTIFY = "notify"
    """Say so on the event stream and in the status."""
    ASK = "ask"
    """Also propose the command (``update.proposed``)."""
    AUTO = "auto"
    """Apply it (the old version stays until the new one has proven itself)."""


class UpdateState(StrEnum):
    """Where a model is in its update cycle."""

    CURRENT = "current"
    APPLYING = "applying"
    APPLIED = "applied"
    """Switched; the previous version is kept until enough jobs succeeded."""
    SETTLED = "settled"
    """The previous version was removed after the new one proved itself."""
    ROLLED_BACK = "rolled-back"


@dataclass(slots=True)
class UpdateRecord:
    """One model's version facts."""

    model_id: str
    latest: str | None = None
    checked_at: float | None = None
    state: UpdateState = UpdateState.CURRENT
    current: str | None = None
    """The commit served since the last switch this record saw."""
    previous: str | None = None
    """The commit served before it, kept on disk for a rollback."""
    applying: str | None = None
    applied_at: float | None = None
    successes: int = 0
    failures: int = 0
    skipped: str | None = None
    """A commit rolled back from: automatic updates leave it alone."""
    policy: UpdatePolicy | None = None
    """None: the setting's default."""
    reason: str | None = None
    """Why the last rollback (or failed apply) happened."""

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-able data."""
        return dataclasses.asdict(self)


def records_dir(home: Path) -> Path:
    """Where update records live."""
    return home / "records" / "updates"


def load_record(home: Path, model_id: str) -> UpdateRecord:
    """The model's record (a fresh one when none was written, or it is unreadable)."""
    data = read_json(records_dir(home) / f"{model_id}.json")
    if not isinstance(data, dict):
        return UpdateRecord(model_id)
    try:
        return UpdateRecord(
            model_id=model_id,
            latest=data.get("latest"),
            checked_at=data.get("checked_at"),
            state=UpdateState(data.get("state", UpdateState.CURRENT)),
            current=data.get("current"),
            previous=data.get("previous"),
            applying=data.get("applying"),
            applied_at=data.get("applied_at"),
            successes=int(data.get("successes", 0)),
            failures=int(data.get("failures", 0)),
            skipped=data.get("skipped"),
            policy=UpdatePolicy(data["policy"]) if data.get("policy") else None,
            reason=data.get("reason"),
        )
    except (TypeError, ValueError):
        return UpdateRecord(model_id)  # a damaged record only loses history, never a model


def save_record(home: Path, record: UpdateRecord) -> None:
    """Write the model's record atomically."""
    write_json_atomic(records_dir(home) / f"{record.model_id}.json", record.to_json())
