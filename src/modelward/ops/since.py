"""Reading "since when" the way people write it: ``2d``, ``12h``, an ISO time, epoch seconds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from modelward.errors import ConfigError

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(value: str, now: float | None = None) -> float:
    """Epoch seconds for ``value``: a span back from now (``30m``, ``2d``, ``1w``), an ISO
    8601 time (UTC when it names no zone) or epoch seconds; ConfigError otherwise."""
    text = value.strip()
    relative = _RELATIVE.match(text)
    if relative:
        span = float(relative.group(1)) * _SECONDS[relative.group(2).lower()]
        return (time.time() if now is None else now) - span
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"cannot read {value!r} as a time",
            hint="Give a span back from now (30m, 12h, 2d, 1w), an ISO time "
            "(2026-12-01T08:00:00Z) or epoch seconds.",
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
