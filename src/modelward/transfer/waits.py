"""Rate-limit waits as progress shows them: "rate-limited by the hub, resuming in 12 s".

A wait is the hub's pacing, not a failure, so it is kept apart from retries: the event
that announces it says ``rate_limited`` and how long, and the progress of the model says
until when it waits, counting down, until its bytes flow again.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from modelward.errors import RateLimitedError

RATE_LIMITED = "rate-limited by the hub"


def waiting_note(seconds_left: float) -> str:
    """The words every surface shows for a wait with ``seconds_left`` to go."""
    left = math.ceil(seconds_left)
    return f"{RATE_LIMITED}, resuming in {left} s" if left > 0 else f"{RATE_LIMITED}, resuming now"


def rate_limit_wait(error: RateLimitedError, path: str | None, wait_s: float) -> dict[str, object]:
    """The ``download.retry`` event's data for a rate-limit wait (no retry counted)."""
    return {
        "path": path,
        "code": error.code,
        "message": waiting_note(wait_s),
        "rate_limited": True,
        "wait_s": round(wait_s, 2),
        "resume_at": round(time.time() + wait_s, 3),
        "retries": 0,
        "delay_s": round(wait_s, 2),
    }


class RateLimitWaits:
    """One model's waits in progress: the hub's rate-limit waits per file (``None``: the
    model's metadata), until when, as wall-clock times; and files waiting for another node
    of the team to publish them, with the words that say so."""

    def __init__(self) -> None:
        self._until: dict[str | None, float] = {}
        self._notes: dict[str, str] = {}
        """Files waiting for another node of the team, with the words that say so."""

    def note(self, path: str, words: str | None) -> None:
        """``path`` waits for another node ("waiting for gpu-3 to publish: 41%"); None:
        no longer."""
        if words is None:
            self._notes.pop(path, None)
        else:
            self._notes[path] = words

    def team_note(self) -> str | None:
        """The words of a file waiting for another node, if one does."""
        return next(iter(self._notes.values()), None)

    def wait(self, path: str | None, resume_at: float) -> None:
        """A wait announced for ``path`` until ``resume_at`` (seconds since the epoch)."""
        self._until[path] = resume_at

    def flowing(self, path: str | None) -> None:
        """Bytes of ``path`` arrived: its wait (and the model's own) is over."""
        self._until.pop(path, None)
        self._until.pop(None, None)
        if path is not None:
            self._notes.pop(path, None)

    def clear(self) -> None:
        """The job stopped or restarted: no wait stands."""
        self._until.clear()
        self._notes.clear()

    def resume_at(self, now: float | None = None) -> float | None:
        """When the last wait still running ends (None: nothing waits)."""
        now = time.time() if now is None else now
        ahead = [t for t in self._until.values() if t > now]
        return max(ahead) if ahead else None


def resume_time(resume_at: float | None) -> datetime | None:
    """``resume_at`` as the UTC time the API carries."""
    return None if resume_at is None else datetime.fromtimestamp(resume_at, UTC)
