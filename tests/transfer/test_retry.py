"""The retry loop: what it retries, how long it waits, when progress resets the count."""

from __future__ import annotations

import pytest

from modelward.errors import (
    AuthRequiredError,
    IncompleteTransferError,
    IntegrityError,
    ModelwardError,
    SourceUnavailableError,
)
from modelward.transfer.retry import RetryPolicy, call_with_retry

FAST = RetryPolicy(max_retries=2, base_delay_s=0.001, max_delay_s=0.01, jitter=0)


async def test_succeeds_after_retryable_failures() -> None:
    calls: list[int] = []
    retried: list[int] = []

    async def attempt() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise IncompleteTransferError("cut")
        return "ok"

    assert await call_with_retry(attempt, FAST, on_retry=lambda e, n, d: retried.append(n)) == "ok"
    assert retried == [1, 2]


async def test_gives_up_after_max_failures_in_a_row() -> None:
    async def attempt() -> None:
        raise IncompleteTransferError("cut")

    with pytest.raises(IncompleteTransferError):
        await call_with_retry(attempt, FAST)


async def test_progress_resets_the_failure_count() -> None:
    on_disk = [0]
    calls = [0]

    async def attempt() -> str:
        calls[0] += 1
        if calls[0] <= 6:
            on_disk[0] += 100  # every failed attempt still wrote bytes
            raise IncompleteTransferError("cut")
        return "done"

    assert await call_with_retry(attempt, FAST, progress=lambda: on_disk[0]) == "done"
    assert calls[0] == 7


async def test_non_retryable_errors_are_not_retried() -> None:
    calls = [0]

    async def attempt() -> None:
        calls[0] += 1
        raise AuthRequiredError("gated")

    with pytest.raises(AuthRequiredError):
        await call_with_retry(attempt, FAST)
    assert calls == [1]


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.1, jitter=0, max_retry_after_s=30)
    assert policy.delay_s(1, SourceUnavailableError("busy", retry_after_s=5)) == 5
    assert policy.delay_s(1, SourceUnavailableError("busy", retry_after_s=999)) == 30
    assert policy.delay_s(3, ModelwardError("x")) == pytest.approx(0.4)


async def test_integrity_failures_are_not_forgiven_by_progress() -> None:
    on_disk = [0]
    calls = [0]

    async def attempt() -> None:
        # A source that alternates a cut (progress) with wrong bytes (progress lost).
        calls[0] += 1
        if calls[0] % 2:
            on_disk[0] += 100
            raise IncompleteTransferError("cut")
        on_disk[0] = 0
        raise IntegrityError("wrong bytes")

    with pytest.raises(IntegrityError):
        await call_with_retry(attempt, FAST, progress=lambda: on_disk[0])
    assert calls[0] == 6
