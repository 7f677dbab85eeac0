"""Bandwidth caps: token buckets the receiving loops draw from before taking more bytes.

Delaying the read of a socket is enough to slow the sender (TCP flow control), so one
bucket shared by every connection caps the total rate. A changed rate applies to the very
next draw, so a new cap takes effect on running transfers at once.
"""

from __future__ import annotations

import asyncio
import time

# How much unused allowance may accumulate: a quarter second keeps the rate smooth while
# letting a few connections start at once.
BURST_S = 0.25


class TokenBucket:
    """Allows ``rate_bytes_per_s`` on average; a rate of 0 means unlimited."""

    def __init__(self, rate_bytes_per_s: float = 0.0) -> None:
        self._rate = float(rate_bytes_per_s)
        self._tokens = 0.0
        self._updated = time.monotonic()
        self._lock = asyncio.Lock()

    @property
    def rate_bytes_per_s(self) -> float:
        """The current cap (0 = unlimited)."""
        return self._rate

    def set_rate(self, rate_bytes_per_s: float) -> None:
        """Change the cap; draws in progress use the new rate from now on."""
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

    async def acquire(self, n: int) -> None:
        """Wait until ``n`` bytes may pass."""
        if self._rate <= 0:
            return
        async with self._lock:  # first come, first served: no connection starves
            while True:
                self._refill()
                if self._rate <= 0:
                    return
                if self._tokens >= min(n, self._rate * BURST_S):
                    self._tokens -= n  # may go negative: the debt delays the next draw
                    return
                needed = min(n, self._rate * BURST_S) - self._tokens
                await asyncio.sleep(min(needed / self._rate, 0.1))


class Throttle:
    """The global cap plus optional per-model caps."""

    def __init__(self, global_rate_bytes_per_s: float = 0.0) -> None:
        self.global_bucket = TokenBucket(global_rate_bytes_per_s)
        self._models: dict[str, TokenBucket] = {}

    def set_model_rate(self, model_id: str, rate_bytes_per_s: float) -> None:
        """Cap one model (0 removes its cap)."""
        self._models.setdefault(model_id, TokenBucket()).set_rate(rate_bytes_per_s)

    async def acquire(self, model_id: str, n: int) -> None:
        """Wait until ``n`` bytes of ``model_id`` may pass both caps."""
        bucket = self._models.get(model_id)
        if bucket is not None:
            await bucket.acquire(n)
        await self.global_bucket.acquire(n)
