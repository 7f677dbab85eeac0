"""The only retry code: exponential backoff with jitter, ``Retry-After`` honoured.

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

from modelward.errors import IntegrityError, ModelwardError, SourceUnavailableError

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
    """
    failures = 0
    integrity_failures = 0
    while True:
        before = progress() if progress else 0
        try:
            return await attempt()
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
