"""Status reads never ask the hub nor write records: models never resolved here are resolved
once in the background (at start, when an entry is added), a failure is remembered with a
backoff and shown in the status, and no read makes the service ask again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from modelward.availability.resolution import RemoteResolution
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.runtime import Runtime
from tests.api.conftest import AUTH, LiveService, StartService

T2V = "t2v-a14b"


def _until(check: Callable[[], Any], timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def _reads(live: LiveService, model_id: str) -> dict[str, Any]:
    """Each status read a few times; the model's status as the last one says."""
    for _ in range(3):
        assert live.client.get("/api/v1/models/status").status_code == 200
        answer = live.client.get(f"/api/v1/models/{model_id}/status")
        assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_never_resolved_model_shows_its_real_size_without_a_read_asking(
    start_service: StartService,
) -> None:
    live = start_service()
    manager = live.runtime.manager
    # Resolved at start, one model after another: every one, before the log is cleared.
    _until(lambda: all(map(manager.known_target, live.runtime.catalog.ids())))
    target = manager.known_target(T2V)
    assert target is not None
    live.hub.clear_log()
    status = _reads(live, T2V)
    assert live.hub.request_log == []
    assert status["availability_status"] == "missing" and status["error_code"] is None
    assert status["size_bytes"] == sum(f.size_bytes for f in target.files)


def test_reads_alone_never_ask_the_hub_nor_write_records(start_service: StartService) -> None:
    # Update checks off: the service asks upstream nothing on its own, so only reads run.
    live = start_service(feature_update_checks=False)
    live.hub.clear_log()
    status = _reads(live, T2V)
    assert live.hub.request_log == []
    assert live.runtime.manager.known_target(T2V) is None  # nothing remembered
    assert status["availability_status"] == "missing"
    assert status["size_bytes"] == (live.runtime.catalog.get(T2V).expected_size_bytes or 0)


def test_a_missing_repo_is_asked_once_and_its_error_shown(start_service: StartService) -> None:
    live = start_service()
    made = live.client.post("/api/v1/models", json={"repo_id": "nobody/not-there"}, headers=AUTH)
    assert made.status_code == 201, made.text
    model_id = made.json()["id"]
    _until(
        lambda: (
            live.client.get(f"/api/v1/models/{model_id}/status").json()["error_code"]
            == "remote-not-found"
        )
    )
    live.hub.clear_log()
    status = _reads(live, model_id)
    assert live.hub.request_log == []  # remembered: no read asks again
    assert status["availability_status"] == "missing" and status["error_hint"]


async def test_a_failure_is_asked_again_only_after_its_backoff(
    hub: DevHub, runtime: Runtime
) -> None:
    resolution = RemoteResolution(runtime.downloader, first_retry_s=0.5)
    hub.set_faults(FaultPlan([Fault.http_status(404, path_glob="*T2V-A14B*")]))
    try:
        resolution.request([T2V])
        await resolution.settle()
        error = resolution.error(T2V)
        assert error is not None and error.code == "remote-not-found"
        hub.clear_faults()
        hub.clear_log()
        resolution.request([T2V])  # asked again within the backoff: waits for it
        await resolution.settle()
        assert hub.request_log == [] and resolution.error(T2V) is not None
        started = time.monotonic()
        while resolution.error(T2V) is not None:
            assert time.monotonic() - started < 5
            await asyncio.sleep(0.05)
        assert time.monotonic() - started > 0.2
        assert runtime.manager.known_target(T2V) is not None
    finally:
        await resolution.aclose()
