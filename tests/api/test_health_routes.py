"""Integrity routes over a real service: verify, repair, quarantine."""

from __future__ import annotations

import time
from pathlib import Path

from modelward.store import RepoLayout
from tests.api.conftest import AUTH, StartService
from tests.conftest import TI2V, TI2V_REPO


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
    assert purged == {"purged": 1, "freed_bytes": big.size}
    assert api.get("/api/v1/quarantine").json() == []
