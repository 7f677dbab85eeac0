"""A paused download across a service restart: its figures are the bytes on disk."""

from __future__ import annotations

from typing import Any

from modelward.devhub import Fault, FaultPlan
from tests.api.conftest import AUTH, StartService
from tests.conftest import TI2V, TI2V_REPO


def _some_bytes(progress: dict[str, Any]) -> bool:
    return progress["status"] == "downloading" and progress["downloaded_bytes"] > 500_000


def test_a_paused_download_shows_its_bytes_after_a_restart(start_service: StartService) -> None:
    first = start_service(connections=2)
    first.hub.set_faults(FaultPlan([Fault.rate(500_000)]))
    assert first.client.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    first.wait_for_progress(TI2V, _some_bytes)
    assert first.client.post(f"/api/v1/models/{TI2V}/pause", headers=AUTH).status_code == 200
    before = first.client.get(f"/api/v1/models/{TI2V}/download").json()
    first.stop()
    first.hub.clear_faults()

    restarted = start_service(connections=2)
    after = restarted.client.get(f"/api/v1/models/{TI2V}/download").json()
    total = first.hub.manifest(TI2V_REPO).total_size
    assert after["status"] == "paused", after
    assert after["total_bytes"] == total, after
    # What the pause left on disk (the durable part at least), not 0 of 0.
    assert 0 < after["downloaded_bytes"] <= before["downloaded_bytes"], (before, after)
    assert after["downloaded_mb"] > 0 and after["total_mb"] > 0
    assert after["can_resume"] is True and after["can_pause"] is False
    status = restarted.client.get(f"/api/v1/models/{TI2V}/status").json()
    assert status["availability_status"] == "paused" and status["size_bytes"] == total
    assert status["downloaded_bytes"] == after["downloaded_bytes"]

    # Resumed, it fetches only what is missing.
    restarted.hub.clear_log()
    assert restarted.client.post(f"/api/v1/models/{TI2V}/resume", headers=AUTH).status_code == 200
    done = restarted.wait_for_progress(TI2V, lambda p: p["status"] == "completed")
    assert done["downloaded_bytes"] == done["total_bytes"] == total
    log = restarted.hub.request_log
    fetched = sum(r.bytes_sent for r in log if "/cdn-lfs/" in r.path or "/resolve/" in r.path)
    assert fetched <= total - after["downloaded_bytes"] + 10_000, (fetched, total, after)
