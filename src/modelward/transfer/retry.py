"""The only retry code: exponential backoff with jitter, ``Retry-After`` honoured, and
the hub's rate-limit waits (which are no failures).

Only an error's ``retryable`` flag decides whether to try again. An attempt that moved the
transfer forward resets the failure count, so a flaky but progressing download is never
abandoned while a dead one gives up after ``max_retries`` failures in a row. Checksum
mismatches are counted apart and never reset: a source that keeps sending wrong bytes
must not be downloaded from forever just because it also drops connections.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from modelward.errors import (
    IntegrityError,
    ModelwardError,
    RateLimitedError,
    SourceUnavailableError,
)
from modelward.sources.ratelimit import MAX_WAIT_S, MIN_WAIT_S

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to try again."""

    max_retries: int = 3
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    max_retry_after_s: float = 300.0
    jitter: float = 0.5
    enabled: bool = True
    """False (the retries feature is off): one attempt, whatever ``max_retries`` says."""

    @property
    def allowed_retries(self) -> int:
        """Failures in a row tolerated before giving up (0 when retries are off)."""
        return self.max_retries if self.enabled else 0

    def delay_s(self, failures: int, error: ModelwardError) -> float:
        """Seconds to wait before the next attempt after ``failures`` failures in a row."""
        backoff = min(self.max_delay_s, self.base_delay_s * 2.0 ** max(0, failures - 1))
        backoff *= 1 + random.uniform(-self.jitter, self.jitter)
        if isinstance(error, SourceUnavailableError) and error.retry_after_s is not None:
            # The server said when; waiting less would only earn another refusal.
            return max(backoff, min(error.retry_after_s, self.max_retry_after_s))
        return backoff


RetryListener = Callable[[ModelwardError, int, float], None]
"""``on_retry(error, failures, delay_s)``; for a rate-limit wait ``error`` is a
:class:`RateLimitedError` and ``failures`` the count unchanged by it."""


async def call_with_retry(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    progress: Callable[[], int] | None = None,
    on_retry: RetryListener | None = None,
) -> T:
    """Run ``attempt`` until it succeeds, fails for good, or fails too often in a row.

    ``progress`` reports a monotonically growing count (bytes on disk); when it grew during
    a failed attempt, the consecutive-failure count starts again from zero.

    A :class:`RateLimitedError` is no failure: it is the hub pacing its callers, not a
    retry of something that went wrong. It waits exactly the announced time (capped at
    :data:`~modelward.sources.ratelimit.MAX_WAIT_S`, not ``max_retry_after_s``), counts
    toward no limit, leaves the failure count and its progress baseline as they were, and
    is honoured even when retries are off.
    """
    failures = 0
    integrity_failures = 0
    before = progress() if progress else 0
    while True:
        try:
            return await attempt()
        except RateLimitedError as limited:
            await _wait_as_announced(limited, failures, on_retry)
            continue
        except ModelwardError as error:
            if not error.retryable:
                raise
            if progress and progress() > before:
                failures = 0
            failures += 1
            if isinstance(error, IntegrityError):
                integrity_failures += 1
            if max(failures, integrity_failures) > policy.allowed_retries:
                raise
            delay = policy.delay_s(failures, error)
            logger.info(
                "retrying in %.1fs after %s (failure %d of %d)",
                delay,
                error.code,
                failures,
                policy.allowed_retries,
            )
            if on_retry:
                on_retry(error, failures, delay)
            await asyncio.sleep(delay)
        before = progress() if progress else 0


async def _wait_as_announced(
    limited: RateLimitedError, failures: int, on_retry: RetryListener | None
) -> None:
    """Sleep the time the hub announced (no jitter: earlier would only earn a 429)."""
    wait = rate_limit_wait_s(limited)
    logger.info("rate-limited by the hub; resuming in %.1fs", wait)
    if on_retry:
        on_retry(limited, failures, wait)
    await asyncio.sleep(wait)


def rate_limit_wait_s(limited: RateLimitedError) -> float:
    """Seconds a rate-limit refusal makes us wait: as announced, at most ``MAX_WAIT_S``."""
    # A refusal's wait is at least MIN_WAIT_S where it is read (ratelimit.py); a gate's
    # is what is left of one, so never zero.
    announced = limited.retry_after_s if limited.retry_after_s is not None else MIN_WAIT_S
    return min(max(announced, 0.0), MAX_WAIT_S)
