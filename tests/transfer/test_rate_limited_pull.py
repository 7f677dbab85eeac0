"""Pulls from a hub that rate-limits: the waits are the hub's pacing, never failures, and
every surface shows them ("rate-limited by the hub, resuming in 2 s")."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from modelward.devhub import DevHub, Manners
from modelward.errors import IncompleteTransferError, ModelwardError, RateLimitedError
from modelward.events import Event, EventType
from modelward.ops.metrics import ServiceMetrics
from modelward.runtime import Runtime
from modelward.sources.ratelimit import MAX_WAIT_S, rate_limited_error
from modelward.transfer import DownloadStatus
from modelward.transfer.progress import ProgressTracker
from modelward.transfer.retry import RetryPolicy, call_with_retry, rate_limit_wait_s
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, make_settings, sha256_of

NOTE = re.compile(r"^rate-limited by the hub, resuming in \d+ s$")
STRICT = RetryPolicy(max_retries=1, base_delay_s=0.001, max_delay_s=0.01, jitter=0)


async def test_rate_limit_waits_count_toward_no_retry_limit() -> None:
    calls = [0]
    told: list[tuple[str, int, float]] = []

    async def attempt() -> str:
        calls[0] += 1
        if calls[0] <= 5:
            raise rate_limited_error("resolve", 0.02)
        return "ok"

    result = await call_with_retry(
        attempt, STRICT, on_retry=lambda e, n, d: told.append((e.code, n, d))
    )
    assert result == "ok" and calls[0] == 6
    assert told == [("rate-limited", 0, 0.02)] * 5


async def test_a_wait_is_exactly_as_announced_even_with_retries_off() -> None:
    calls = [0]

    async def attempt() -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise rate_limited_error("resolve", 0.3)

    started = time.monotonic()
    await call_with_retry(attempt, RetryPolicy(enabled=False, max_retry_after_s=0.01))
    assert time.monotonic() - started >= 0.3  # not cut to max_retry_after_s, no jitter
    assert rate_limit_wait_s(RateLimitedError("x", retry_after_s=10**9)) == MAX_WAIT_S


async def test_waits_leave_the_failure_count_and_its_progress_alone() -> None:
    # fail, wait, fail: still two failures in a row, so a one-retry policy gives up.
    errors: list[ModelwardError] = [
        IncompleteTransferError("cut"),
        rate_limited_error("resolve", 0.01),
        IncompleteTransferError("cut again"),
    ]

    async def attempt() -> None:
        raise errors.pop(0)

    with pytest.raises(IncompleteTransferError, match="cut again"):
        await call_with_retry(attempt, STRICT)


@pytest.fixture
async def limited_hub(hub_root: Path) -> AsyncIterator[DevHub]:
    manners = Manners(rate_limit=6, rate_window_s=1)
    hub = DevHub(root=hub_root, scale="tiny", manners=manners)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


async def _watch_progress(runtime: Runtime, seen: list[str], done: asyncio.Event) -> None:
    """What the API's progress says while the pull runs (a wait has no event of its own
    while it lasts: the note counts down on every look)."""
    while not done.is_set():
        progress = await runtime.downloader.get_download_progress(TI2V)
        if progress.waiting:
            # A wait has a time it ends, and no time left made up from the rate across it.
            assert progress.resume_at is not None and progress.eta_seconds is None
            seen.append(progress.waiting)
        await asyncio.sleep(0.05)


async def test_a_rate_limited_pull_waits_and_completes_verified(
    limited_hub: DevHub, tmp_path: Path
) -> None:
    events: list[Event] = []
    seen: list[str] = []
    done = asyncio.Event()
    async with Runtime(make_settings(tmp_path, limited_hub.url, max_retries=0)) as runtime:
        runtime.bus.subscribe(events.append)
        metrics = ServiceMetrics(runtime.bus)
        watcher = asyncio.create_task(_watch_progress(runtime, seen, done))
        result = await runtime.downloader.download_with_retry(TI2V)
        done.set()
        await watcher
        progress = await runtime.downloader.get_download_progress(TI2V)
    assert result.success, result.error_message
    assert result.final_status is DownloadStatus.COMPLETED and result.total_retries == 0
    assert progress.retry_count == 0 and progress.waiting is None
    waits = [e.data for e in events if e.type == EventType.DOWNLOAD_RETRY]
    assert waits and all(w["rate_limited"] and w["retries"] == 0 for w in waits), waits
    # A wait may be a few ms: two answers' whole-second resets need not end together.
    bad = [w for w in waits if not (0 <= float(w["wait_s"]) <= 1 and NOTE.match(str(w["message"])))]
    assert not bad and max(float(w["wait_s"]) for w in waits) > 0.5, waits
    assert seen and all(NOTE.match(s) for s in seen), seen
    counted = metrics.registry.get_sample_value
    assert counted("modelward_download_rate_limit_waits_total") == len(waits)
    assert (counted("modelward_download_rate_limit_wait_seconds_total") or 0) > 0.5
    assert counted("modelward_download_retries_total", {"cause": "rate-limited"}) is None
    manifest = limited_hub.manifest(TI2V_REPO)
    snapshot = runtime.settings.cache_dir / f"models--{TI2V_REPO.replace('/', '--')}"
    for f in manifest.files:
        path = snapshot / "snapshots" / manifest.commit / f.path
        assert sha256_of(path) == f.content_sha256, f.path
    assert_store_invariants(runtime.settings.cache_dir)


def test_the_tracker_shows_a_wait_counting_down_until_bytes_flow() -> None:
    tracker = ProgressTracker()
    tracker(Event(EventType.DOWNLOAD_QUEUED, "m", {}))
    files = [{"path": "a", "size_bytes": 10}, {"path": "b", "size_bytes": 10}]
    tracker(Event(EventType.DOWNLOAD_STARTED, "m", {"files": files}))
    resume_at = time.time() + 12.4
    wait = {"path": "a", "rate_limited": True, "wait_s": 12.4, "resume_at": resume_at}
    tracker(Event(EventType.DOWNLOAD_RETRY, "m", {**wait, "retries": 0}))
    progress = tracker.get("m")
    assert progress is not None and progress.retry_count == 0
    assert progress.waiting == "rate-limited by the hub, resuming in 13 s"
    assert progress.eta_seconds is None
    assert progress.resume_at is not None and abs(progress.resume_at.timestamp() - resume_at) < 1e-3
    tracker(Event(EventType.FILE_BYTES, "m", {"path": "b", "done_bytes": 4, "new_bytes": 4}))
    assert _waiting(tracker) is not None  # b flows, a still waits
    tracker(Event(EventType.FILE_BYTES, "m", {"path": "a", "done_bytes": 4, "new_bytes": 4}))
    assert _waiting(tracker) is None
    past = {**wait, "resume_at": time.time() - 1}
    tracker(Event(EventType.DOWNLOAD_RETRY, "m", past))
    assert _waiting(tracker) is None  # a wait that is over shows no more


def _waiting(tracker: ProgressTracker) -> str | None:
    progress = tracker.get("m")
    assert progress is not None
    return progress.waiting
