"""One truth: while the service downloads a model, its status, its download and the queue
say the same state and bytes at the same moment, running and paused, and so do the
``model.state`` events."""

from __future__ import annotations

import time
from typing import Any

import pytest

from modelward.devhub import Fault, FaultPlan
from modelward.events import Event
from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V


def _views(live: LiveService) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The model's download, status and queue entry, asked in turn."""
    api = live.client
    download = api.get(f"/api/v1/models/{TI2V}/download").json()
    status = api.get(f"/api/v1/models/{TI2V}/status").json()
    [entry] = [e for e in api.get("/api/v1/queue").json()["data"] if e["model_id"] == TI2V]
    return download, status, entry


def _part_way(progress: dict[str, Any]) -> bool:
    return progress["status"] == "downloading" and (
        200_000 < progress["downloaded_bytes"] < progress["total_bytes"] // 2
    )


def test_status_download_and_queue_agree_while_running_and_paused(
    start_service: StartService,
) -> None:
    live = start_service(connections=2)
    live.hub.set_faults(FaultPlan([Fault.rate(400_000)]))
    events: list[Event] = []
    live.runtime.bus.subscribe(lambda e: events.append(e) if e.type == "model.state" else None)
    api = live.client
    assert api.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    live.wait_for_progress(TI2V, _part_way)

    # Running: bytes only grow, so each later view lies between the first and last look.
    before, status, entry = _views(live)
    after = api.get(f"/api/v1/models/{TI2V}/download").json()
    assert before["status"] == entry["status"] == status["availability_status"] == "downloading"
    low, high = before["downloaded_bytes"], after["downloaded_bytes"]
    assert low <= status["downloaded_bytes"] <= high, (low, status, high)
    assert low <= entry["downloaded_bytes"] <= high, (low, entry, high)
    total = before["total_bytes"]
    assert status["size_bytes"] == entry["total_bytes"] == total
    assert status["download_progress"] == pytest.approx(100.0 * status["downloaded_bytes"] / total)

    # Paused: nothing moves, so all three say exactly the same thing.
    assert api.post(f"/api/v1/models/{TI2V}/pause", headers=AUTH).json()["changed"]
    download, status, entry = _views(live)
    assert download["status"] == entry["status"] == status["availability_status"] == "paused"
    paused_bytes = download["downloaded_bytes"]
    assert 0 < paused_bytes < total
    assert status["downloaded_bytes"] == entry["downloaded_bytes"] == paused_bytes
    assert status["download_progress"] == download["progress_percent"]
    assert entry["progress_percent"] == download["progress_percent"]
    # Partial files count the bytes they hold, not the full size they are made sparse at.
    assert status["present_bytes"] == paused_bytes
    assert status["can_resume_download"] and download["can_resume"]
    time.sleep(0.3)
    assert api.get(f"/api/v1/models/{TI2V}/download").json()["downloaded_bytes"] == paused_bytes

    deadline = time.monotonic() + 10
    while not any(e.model_id == TI2V and e.data["state"] == "paused" for e in events):
        assert time.monotonic() < deadline, [e.data for e in events]
        time.sleep(0.05)
    [state] = [e for e in events if e.model_id == TI2V and e.data["state"] == "paused"]
    assert state.data["downloaded_bytes"] == paused_bytes
    assert state.data["download_progress"] == status["download_progress"]

    live.hub.clear_faults()
    assert api.post(f"/api/v1/models/{TI2V}/resume", headers=AUTH).json()["changed"]
    done = live.wait_for_progress(TI2V, lambda p: p["status"] == "completed")
    status = api.get(f"/api/v1/models/{TI2V}/status").json()
    assert status["availability_status"] == "available"
    assert status["downloaded_bytes"] == done["downloaded_bytes"] == total
    assert status["download_progress"] == done["progress_percent"] == 100.0
