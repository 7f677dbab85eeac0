"""Integrity routes over a real service: verify, repair, quarantine."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from modelward.devhub import DevHub, Fault
from modelward.runtime import Runtime
from modelward.store import RepoLayout
from tests.api.conftest import AUTH, StartService
from tests.conftest import TI2V, TI2V_REPO, make_settings


def test_verify_repair_and_quarantine_routes(tmp_path: Path, start_service: StartService) -> None:
    live = start_service()
    api = live.client
    assert api.post(f"/api/v1/models/{TI2V}/verify").status_code == 401
    never = api.post(f"/api/v1/models/{TI2V}/verify", headers=AUTH).json()
    assert not never["is_healthy"] and never["issues"][0]["kind"] == "missing"
    assert api.post("/api/v1/models/nope/verify", headers=AUTH).status_code == 404

    assert api.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    deadline = time.monotonic() + 60
    while api.get(f"/api/v1/models/{TI2V}/download").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    healthy = api.post(f"/api/v1/models/{TI2V}/verify?level=full", headers=AUTH).json()
    assert healthy["is_healthy"] and healthy["integrity_score"] == 1.0

    big = max((f for f in live.hub.manifest(TI2V_REPO).files if f.is_lfs), key=lambda f: f.size)
    blob = RepoLayout(tmp_path / "cache", tmp_path / "home", TI2V_REPO).blob_path(big.etag)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(big.size - 10)
        fh.write(b"\x01" * 10)
    repaired = api.post(f"/api/v1/models/{TI2V}/repair", headers=AUTH)
    assert repaired.status_code == 200, repaired.text
    body = repaired.json()
    assert body["success"] and body["issues_found"][0]["kind"] == "checksum-mismatch"
    assert body["plans"][0]["quarantine_id"]

    [entry] = api.get("/api/v1/quarantine").json()
    assert entry["path"] == big.path
    assert api.delete("/api/v1/quarantine").status_code == 401
    purged = api.delete("/api/v1/quarantine", headers=AUTH).json()
    assert purged == {"purged": 1, "freed_bytes": entry["size_bytes"], "kept": 0}
    # The last block alone (when the file has several), else the whole file.
    last_block = (big.size - 1) // (16 * 1024**2) * (16 * 1024**2)
    assert entry["size_bytes"] == big.size - last_block
    assert api.get("/api/v1/quarantine").json() == []


def test_health_report_performance_and_check_history_routes(start_service: StartService) -> None:
    live = start_service()
    api = live.client
    report = api.get("/api/v1/health").json()
    assert report["models_absent"] == len(live.runtime.catalog.ids())
    assert report["automation"] == "ask" and report["overall_health_score"] == 1.0
    assert report["recommendations"][0]["route"].startswith("POST /api/v1/models/")

    metrics = {"generation_time_s": 42.0, "width": 1280, "height": 704, "num_frames": 121}
    path = f"/api/v1/models/{TI2V}/performance"
    assert api.post(path, json=metrics).status_code == 401
    for _ in range(15):
        health = api.post(path, json=metrics, headers=AUTH)
        assert health.status_code == 200, health.text
    assert health.json()["status"] == "healthy" and health.json()["samples"] == 15
    slow = {**metrics, "generation_time_s": 120.0}
    for _ in range(10):
        api.post(path, json=slow, headers=AUTH)
    degraded = api.get(path).json()
    assert degraded["is_degraded"] and degraded["suggestions"]
    bad = api.post(path, json={"generation_time_s": -1}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["code"] == "request-invalid"
    assert api.get("/api/v1/models/nope/performance").status_code == 404

    assert api.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    deadline = time.monotonic() + 60
    while api.get(f"/api/v1/models/{TI2V}/download").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    api.post(f"/api/v1/models/{TI2V}/verify?level=scrub", headers=AUTH)
    [latest, *_] = api.get(f"/api/v1/models/{TI2V}/checks").json()
    assert latest["level"] == "scrub" and latest["is_healthy"]
    assert api.get(f"/api/v1/models/{TI2V}/checks?limit=-1").status_code == 422
    status = api.get(f"/api/v1/models/{TI2V}/status").json()
    assert status["last_health_check"] is not None and status["performance_score"] < 1
    report = api.get("/api/v1/health").json()
    [ti2v] = [m for m in report["models"] if m["model_id"] == TI2V]
    assert ti2v["condition"] == "degraded" and ti2v["last_check_level"] == "scrub"


def test_the_service_checks_every_model_at_start_and_repairs_when_automation_is_auto(
    tmp_path: Path, start_service: StartService, threaded_hub: DevHub
) -> None:
    async def pull() -> None:
        async with Runtime(make_settings(tmp_path, threaded_hub.url)) as runtime:
            assert (await runtime.downloader.download_with_retry(TI2V)).success

    asyncio.run(pull())
    big = max((f for f in threaded_hub.manifest(TI2V_REPO).files if f.is_lfs), key=lambda f: f.size)
    blob = RepoLayout(tmp_path / "cache", tmp_path / "home", TI2V_REPO).blob_path(big.etag)
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes()[: big.size // 2])  # truncated: a stat sees it

    live = start_service(automation="auto")
    api = live.client
    deadline = time.monotonic() + 60
    while not api.get("/api/v1/quarantine").json() or live.runtime.health.repairing:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    # After the repair: a structural check of the model, healthy; a full check of the new
    # blob may come before or after it, depending on which finishes first.
    def healed(checks: list[dict[str, object]]) -> bool:
        structural = next(c for c in checks if c["level"] == "structural")
        return bool(structural["is_healthy"] and checks[0]["is_healthy"])

    while not healed(checks := api.get(f"/api/v1/models/{TI2V}/checks").json()):
        assert time.monotonic() < deadline, checks
        time.sleep(0.05)
    status = api.get(f"/api/v1/models/{TI2V}/status").json()
    assert status["availability_status"] == "available" and status["integrity_score"] == 1.0
    [entry] = api.get("/api/v1/quarantine").json()
    assert entry["path"] == big.path and "truncated" in entry["reason"]


def test_a_repair_can_run_in_the_background(
    tmp_path: Path, start_service: StartService, threaded_hub: DevHub
) -> None:
    live = start_service()
    api = live.client
    assert api.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    live.wait_for_progress(TI2V, lambda p: p["status"] == "completed")
    big = max((f for f in threaded_hub.manifest(TI2V_REPO).files if f.is_lfs), key=lambda f: f.size)
    blob = RepoLayout(tmp_path / "cache", tmp_path / "home", TI2V_REPO).blob_path(big.etag)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(big.size // 2)
        fh.write(b"\x07" * 64)
    threaded_hub.set_faults([Fault.rate(3_000_000)])  # long enough to see it running
    started = api.post(f"/api/v1/models/{TI2V}/repair?wait=false", headers=AUTH)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "repairing"
    again = api.post(f"/api/v1/models/{TI2V}/repair?wait=false", headers=AUTH)
    assert again.status_code == 409 and again.json()["code"] == "store-locked"
    seen = {api.get(f"/api/v1/models/{TI2V}/status").json()["availability_status"]}
    threaded_hub.clear_faults()
    deadline = time.monotonic() + 60
    while live.runtime.health.repairing:
        assert time.monotonic() < deadline
        seen.add(api.get(f"/api/v1/models/{TI2V}/status").json()["availability_status"])
        time.sleep(0.05)
    assert "repairing" in seen
    status = api.get(f"/api/v1/models/{TI2V}/status").json()
    assert status["availability_status"] == "available"
