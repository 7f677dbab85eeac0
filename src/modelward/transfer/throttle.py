"""Bandwidth caps: token buckets the receiving threads draw from before taking more bytes.

Delaying the read of a socket is enough to slow the sender (TCP flow control), so one
bucket shared by every connection caps the total rate. A changed rate applies to the very
next draw, so a new cap takes effect on running transfers at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# How much unused allowance may accumulate: a quarter second keeps the rate smooth while
# letting a few connections start at once.
BURST_S = 0.25
# The longest a waiting draw sleeps before looking at the rate (and the stop flag) again.
MAX_NAP_S = 0.1


class TokenBucket:
    """Allows ``rate_bytes_per_s`` on average; a rate of 0 means unlimited (thread-safe)."""

    def __init__(self, rate_bytes_per_s: float = 0.0) -> None:
        self._rate = float(rate_bytes_per_s)
        self._tokens = 0.0
        self._updated = time.monotonic()
        self._lock = threading.Lock()
        self._turn = threading.Lock()
        """Held by the one draw that waits for tokens, so waiting draws take turns rather
        than splitting the refill into slivers; a stopped draw gives up its place."""

    @property
    def rate_bytes_per_s(self) -> float:
        """The current cap (0 = unlimited)."""
        return self._rate

    def set_rate(self, rate_bytes_per_s: float) -> None:
        """Change the cap; draws in progress use the new rate from now on."""
        with self._lock:
            self._refill()
            self._rate = max(0.0, float(rate_bytes_per_s))
            self._tokens = min(self._tokens, self._rate * BURST_S)

    def _refill(self) -> None:
        now = time.monotonic()
        if self._rate > 0:
            self._tokens = min(
                self._rate * BURST_S, self._tokens + (now - self._updated) * self._rate
            )
        self._updated = now

    def acquire(self, n: int, stop: threading.Event) -> bool:
        """Wait until ``n`` bytes may pass (blocking); False when ``stop`` was set first."""
        if self._rate <= 0:
            return True
        while not self._turn.acquire(timeout=MAX_NAP_S):
            if stop.is_set():
                return False
        try:
            while True:
                with self._lock:
                    self._refill()
                    if self._rate <= 0:
                        return True
                    wanted = min(n, self._rate * BURST_S)
                    if self._tokens >= wanted:
                        self._tokens -= n  # may go negative: the debt delays the next draw
                        return True
                    nap = min((wanted - self._tokens) / self._rate, MAX_NAP_S)
                if stop.wait(nap):
                    return False
        finally:
            self._turn.release()


class Throttle:
    """The global cap plus optional per-model caps."""

    def __init__(self, global_rate_bytes_per_s: float = 0.0) -> None:
        self.global_bucket = TokenBucket(global_rate_bytes_per_s)
        self._models: dict[str, TokenBucket] = {}

    def set_model_rate(self, model_id: str, rate_bytes_per_s: float) -> None:
        """Cap one model (0 removes its cap)."""
        self._models.setdefault(model_id, TokenBucket()).set_rate(rate_bytes_per_s)

    def for_model(self, model_id: str) -> ModelThrottle:
        """The caps ``model_id``'s transfers draw from."""
        return ModelThrottle(self, model_id)

    def is_limited(self, model_id: str) -> bool:
        """True when a cap applies to ``model_id`` now."""
        bucket = self._models.get(model_id)
        return self.global_bucket.rate_bytes_per_s > 0 or (
            bucket is not None and bucket.rate_bytes_per_s > 0
        )

    def acquire(self, model_id: str, n: int, stop: threading.Event) -> bool:
        """Wait until ``n`` bytes of ``model_id`` may pass both caps; False when stopped."""
        bucket = self._models.get(model_id)
        if bucket is not None and not bucket.acquire(n, stop):
            return False
        return self.global_bucket.acquire(n, stop)


@dataclass(frozen=True, slots=True)
class ModelThrottle:
    """One model's view of the caps, handed to its transfers."""

    throttle: Throttle
    model_id: str

    def is_limited(self) -> bool:
        """True when a cap applies now."""
        return self.throttle.is_limited(self.model_id)

    def acquire(self, n: int, stop: threading.Event) -> bool:
        """Wait until ``n`` bytes may pass; False when ``stop`` was set first."""
        return self.throttle.acquire(self.model_id, n, stop)
