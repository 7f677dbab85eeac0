"""Storage, updates, analytics and adoption through a real service and the local hub."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants


def _downloaded(live: LiveService) -> dict[str, object]:
    assert live.client.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    live.wait_for_progress(TI2V, lambda p: p["status"] == "completed")
    status: dict[str, object] = live.client.get(f"/api/v1/models/{TI2V}/status").json()
    return status


def test_jobs_show_up_in_analytics(start_service: StartService) -> None:
    live = start_service()
    api = live.client
    _downloaded(live)
    for prompt in ("a", "b", "c"):
        ran = api.post("/api/v1/generate", json={"model_id": TI2V, "prompt": prompt}, headers=AUTH)
        assert ran.status_code == 200 and ran.json()["used_model"] == TI2V
    report = api.get("/api/v1/analytics?days=7").json()
    assert report["total_uses"] == 3
    [first, *_rest] = report["models"]
    assert first["model_id"] == TI2V and first["total_uses"] == 3 and first["success_rate"] == 1.0
    assert len(first["last_30_days_usage"]) == 30 and first["last_30_days_usage"][-1]["uses"] == 3
    assert first["peak_usage_hours"] == [time.localtime().tm_hour]
    usage = api.get(f"/api/v1/models/{TI2V}/usage").json()
    assert usage["total_uses"] == 3 and usage["last_used"] is not None
    assert isinstance(api.get("/api/v1/analytics/preload").json(), list)
    assert api.get("/api/v1/analytics?days=0").status_code == 422


def test_pins_removal_and_low_space(start_service: StartService) -> None:
    live = start_service(low_space_bytes=10**18)
    api = live.client
    _downloaded(live)
    storage = api.get("/api/v1/storage").json()
    assert storage["low"] and "below" in storage["message"]
    assert [m["model_id"] for m in storage["models"]] == [TI2V]
    assert [c["model_id"] for c in storage["suggestions"]["removed"]] == [TI2V]

    assert api.put(f"/api/v1/models/{TI2V}/pin", headers=AUTH).json()["changed"]
    refused = api.delete(f"/api/v1/models/{TI2V}?dry_run=false", headers=AUTH)
    assert refused.status_code == 409 and refused.json()["code"] == "model-pinned"
    assert api.get("/api/v1/storage").json()["models"][0]["pinned"]
    assert api.delete(f"/api/v1/models/{TI2V}/pin", headers=AUTH).json()["changed"]
    plan = api.delete(f"/api/v1/models/{TI2V}", headers=AUTH).json()
    assert plan["dry_run"] and plan["freed_bytes"] > 0
    assert api.get(f"/api/v1/models/{TI2V}/status").json()["availability_status"] == "available"
    done = api.delete(f"/api/v1/models/{TI2V}?dry_run=false", headers=AUTH).json()
    assert not done["dry_run"] and done["freed_bytes"] == plan["freed_bytes"]
    assert api.get(f"/api/v1/models/{TI2V}/status").json()["availability_status"] == "missing"


def test_update_check_apply_and_rollback_routes(start_service: StartService) -> None:
    live = start_service()
    api = live.client
    old = _downloaded(live)["current_version"]
    assert not api.get(f"/api/v1/models/{TI2V}/update", headers=AUTH).json()["update_available"]
    new = live.hub.bump_commit(TI2V_REPO)
    check = api.get(f"/api/v1/models/{TI2V}/update", headers=AUTH).json()
    assert check["update_available"] and check["latest_version"] == new
    status = api.get(f"/api/v1/models/{TI2V}/status").json()
    assert status["update_available"] and status["latest_version"] == new
    assert api.post(f"/api/v1/models/{TI2V}/update").status_code == 401
    applied = api.post(f"/api/v1/models/{TI2V}/update", headers=AUTH).json()
    assert applied["success"] and applied["current_version"] == new
    versions = api.get(f"/api/v1/models/{TI2V}/versions").json()
    assert versions["state"] == "applied" and versions["previous"] == old
    back = api.post(f"/api/v1/models/{TI2V}/rollback", headers=AUTH).json()
    assert back["current_version"] == old
    again = api.post(f"/api/v1/models/{TI2V}/rollback", headers=AUTH)
    assert again.status_code == 200 and again.json()["current_version"] == new  # undo the undo
    policy = api.put(
        f"/api/v1/models/{TI2V}/update-policy", json={"policy": "auto"}, headers=AUTH
    ).json()
    assert policy["policy"] == "auto"


def test_adopting_a_folder_through_the_service(start_service: StartService, tmp_path: Path) -> None:
    live = start_service()
    api = live.client
    snapshot = Path(str(_downloaded(live)["local_path"]))
    folder = tmp_path / "from-elsewhere"
    for path in snapshot.rglob("*"):
        if path.is_file():
            copy = folder / path.relative_to(snapshot)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(os.path.realpath(path), copy)
    assert api.delete(f"/api/v1/models/{TI2V}?dry_run=false", headers=AUTH).status_code == 200
    live.hub.clear_log()
    report = api.post(
        f"/api/v1/models/{TI2V}/adopt", json={"path": str(folder)}, headers=AUTH
    ).json()
    assert report["complete"] and report["to_fetch"] == [] and report["adopted_bytes"] > 0
    assert {f["outcome"] for f in report["files"]} == {"adopted"}
    assert not [r for r in live.hub.request_log if "/api/" not in r.path]  # nothing fetched
    assert api.get(f"/api/v1/models/{TI2V}/status").json()["availability_status"] == "available"
    assert_store_invariants(live.runtime.settings.cache_dir)
    missing = api.post(
        f"/api/v1/models/{TI2V}/adopt", json={"path": str(tmp_path / "nope")}, headers=AUTH
    )
    assert missing.status_code == 422 and missing.json()["hint"]
