"""Requests that arrive together share one status derivation, and none gets an answer
derived before it arrived; the status list route answers many clients at once."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from modelward.api.shared_read import SharedRead
from tests.api.conftest import StartService


async def test_callers_arriving_together_share_a_run_that_starts_after_them() -> None:
    runs: list[int] = []
    release = asyncio.Event()

    async def compute() -> int:
        runs.append(len(runs) + 1)
        number = len(runs)
        await release.wait()
        return number

    shared = SharedRead(compute)
    first = asyncio.create_task(shared.get())
    await asyncio.sleep(0)  # the first run has started reading
    while not runs:
        await asyncio.sleep(0)
    later = [asyncio.create_task(shared.get()) for _ in range(20)]
    release.set()
    assert await first == 1
    # Those who came while run 1 was reading get run 2, which started after them: 21
    # callers, two runs.
    assert await asyncio.gather(*later) == [2] * 20
    assert runs == [1, 2]


async def test_a_failed_run_fails_its_callers_and_the_next_call_runs_again() -> None:
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("the store is unreadable")
        return calls

    shared = SharedRead(compute)
    with pytest.raises(ValueError, match="unreadable"):
        await shared.get()
    assert await shared.get() == 2


def test_twenty_clients_get_the_status_list(start_service: StartService) -> None:
    live = start_service()
    api = live.client
    # The service resolves never-resolved models in the background as it starts; the list
    # changes as each is resolved, so the reads compared start once that is done.
    deadline = time.monotonic() + 20
    while not all(map(live.runtime.manager.known_target, live.runtime.catalog.ids())):
        assert time.monotonic() < deadline, "the models were not resolved at start"
        time.sleep(0.02)
    expected = api.get("/api/v1/models/status").json()

    def ask(_: int) -> dict[str, object]:
        response = api.get("/api/v1/models/status")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        body: dict[str, object] = response.json()
        return body

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(ask, range(60)))
    assert all(a == expected for a in answers)
    assert expected["count"] == len(live.runtime.catalog)
