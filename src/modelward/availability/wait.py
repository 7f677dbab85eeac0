"""How long until a model is ready: remaining bytes over measured speed, behind the queue,
plus the verification tail, with a range that says how sure the figure is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from modelward.units import format_size, format_speed

ASSUMED_BYTES_PER_S = 50e6
"""Speed assumed before any is measured (a fair home connection); the range says so."""
UNMEASURED_RANGE = (10e6, 250e6)
MEASURED_SPREAD = 0.3
"""A measured speed still moves: the range is the estimate ±30%."""
HASH_BYTES_PER_S = 1e9
"""sha256 on one core of a current CPU; only the tail not hashed during the download waits."""


@dataclass(frozen=True, slots=True)
class EstimatedWaitTime:
    """The seed's EstimatedWaitTime: when a model should be ready, and how sure that is."""

    model_id: str
    seconds: float | None
    """Best estimate (0: ready now; None: it will not get ready by itself, see ``reason``)."""
    low_seconds: float | None
    high_seconds: float | None
    remaining_bytes: int
    bytes_ahead: int
    """Bytes of downloads ahead in the queue, sharing the connection."""
    queue_position: int | None
    """Place in the download queue (1 = next); None when not queued."""
    speed_bytes_per_s: float
    speed_measured: bool
    verification_seconds: float
    reason: str

    @property
    def estimate(self) -> timedelta | None:
        """``seconds`` as a timedelta."""
        return timedelta(seconds=self.seconds) if self.seconds is not None else None


def estimate(
    model_id: str,
    *,
    remaining_bytes: int,
    bytes_ahead: int,
    queue_position: int | None,
    measured_bytes_per_s: float,
    unhashed_tail_bytes: int,
) -> EstimatedWaitTime:
    """The wait for ``remaining_bytes`` behind ``bytes_ahead`` at the measured speed (0 when
    nothing is measured yet), then hashing ``unhashed_tail_bytes``."""
    verify_s = unhashed_tail_bytes / HASH_BYTES_PER_S
    total = remaining_bytes + bytes_ahead
    measured = measured_bytes_per_s > 0
    speed = measured_bytes_per_s if measured else ASSUMED_BYTES_PER_S
    best = total / speed + verify_s
    if measured:
        low, high = best * (1 - MEASURED_SPREAD), best * (1 + MEASURED_SPREAD)
        how = f"at the measured {format_speed(speed)}"
    else:
        low = total / UNMEASURED_RANGE[1] + verify_s
        high = total / UNMEASURED_RANGE[0] + verify_s
        how = f"assuming {format_speed(speed)} until a speed is measured"
    ahead = f", behind {format_size(bytes_ahead)} queued before it" if bytes_ahead else ""
    reason = f"{format_size(remaining_bytes)} to fetch{ahead}, {how}"
    return EstimatedWaitTime(
        model_id,
        round(best, 1),
        round(low, 1),
        round(high, 1),
        remaining_bytes,
        bytes_ahead,
        queue_position,
        speed,
        measured,
        round(verify_s, 2),
        reason,
    )


def ready(model_id: str) -> EstimatedWaitTime:
    """The wait of a model that is available now."""
    return EstimatedWaitTime(model_id, 0.0, 0.0, 0.0, 0, 0, None, 0.0, False, 0.0, "available")


def stuck(model_id: str, remaining_bytes: int, reason: str) -> EstimatedWaitTime:
    """The wait of a model that will not get ready by itself (paused, failed, damaged)."""
    return EstimatedWaitTime(
        model_id, None, None, None, remaining_bytes, 0, None, 0.0, False, 0.0, reason
    )
